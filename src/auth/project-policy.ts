import { z } from 'zod';
import { invalidParameterValue } from '../lib/errors.ts';
import { isLinuxCapability, isNormalizedAbsolutePath, normalizeCapability } from '../runtime/request-validation.ts';
import { DEFAULT_SECURITY_POLICY, pathsOverlap, type SecurityPolicy } from '../runtime/security-policy.ts';
import type { ProjectPolicyRecord } from './project-policy-queries.ts';

const MAX_HOST_PATHS = 100;

/** A project's security policy as its members read it. */
export interface ProjectSecurityPolicy extends SecurityPolicy {
  project: string;
  allowedHostPaths: string[];
  allowedCapabilities: string[];
  /** When and by whom a site admin last set it; null while the project has the defaults. */
  updatedAt: number | null;
  updatedBy: string | null;
}

/** A Linux capability in any spelling (`sys_ptrace`, `CAP_SYS_PTRACE`), kept as Docker names it: `SYS_PTRACE`. */
export const capabilityNameSchema = z
  .string()
  .refine(isLinuxCapability, { error: (issue) => `${JSON.stringify(issue.input)} is not a Linux capability: use names like SYS_PTRACE or CAP_NET_ADMIN` })
  .transform(normalizeCapability);

const hostFolderSchema = z
  .string()
  .refine(isNormalizedAbsolutePath, { error: (issue) => `${JSON.stringify(issue.input)} must be an absolute, normalized path (no "..", no trailing "/")`, abort: true })
  .refine((path) => path !== '/', 'the whole host ("/") cannot be allowed: name the folders the project needs');

const unique = <T>(values: T[]) => [...new Set(values)];

/** What a site admin sets (a field left out keeps its safe default): the whole policy, replaced. */
export const securityPolicyInputSchema = z.strictObject({
  allowPrivileged: z.boolean().default(false),
  allowHostNetwork: z.boolean().default(false),
  allowedHostPaths: z.array(hostFolderSchema).max(MAX_HOST_PATHS).default([]).transform(unique),
  allowedCapabilities: z.array(capabilityNameSchema).default([]).transform(unique),
});

export type SecurityPolicyInput = z.input<typeof securityPolicyInputSchema>;
type SecurityPolicySettings = z.output<typeof securityPolicyInputSchema>;

/**
 * The policy `input` asks for, once its host folders are known to stay clear of `dataDir`: inside it (or above it)
 * a container would reach the database and the secrets.
 */
export function parseSecurityPolicy(input: SecurityPolicyInput, dataDir: string): SecurityPolicySettings {
  const policy = securityPolicyInputSchema.parse(input);
  const unsafe = policy.allowedHostPaths.find((path) => pathsOverlap(path, dataDir));
  if (unsafe !== undefined) {
    throw invalidParameterValue(`allowedHostPaths: ${unsafe} is inside or above Trainyard's data directory (${dataDir}), where its database and secrets are`);
  }
  return policy;
}

/** The policy a project has: its stored one, or the defaults where a site admin has set none. */
export function projectSecurityPolicy(project: string, record: ProjectPolicyRecord | undefined): ProjectSecurityPolicy {
  const { allowPrivileged, allowHostNetwork, allowedHostPaths, allowedCapabilities } = record ?? DEFAULT_SECURITY_POLICY;
  return {
    project,
    allowPrivileged,
    allowHostNetwork,
    allowedHostPaths: [...allowedHostPaths],
    allowedCapabilities: [...allowedCapabilities],
    updatedAt: record?.updatedAt ?? null,
    updatedBy: record?.updatedBy ?? null,
  };
}
