import { realpathSync } from 'node:fs';
import { posix } from 'node:path';
import { forbidden, type HttpError } from '../lib/errors.ts';
import type { ContainerRequest } from './container-request.ts';
import { bindMounts, normalizeCapability } from './request-validation.ts';

/** What a site admin allows a project's containers beyond the safe defaults. */
export interface SecurityPolicy {
  allowPrivileged: boolean;
  allowHostNetwork: boolean;
  /** Absolute host folders that may be bind-mounted, with everything below them. */
  allowedHostPaths: readonly string[];
  /** Capabilities that may be added, e.g. `SYS_PTRACE` (with or without `CAP_`). */
  allowedCapabilities: readonly string[];
}

/** Nothing beyond the defaults: no privileged mode, no host network, no host paths, no added capabilities. */
export const DEFAULT_SECURITY_POLICY: SecurityPolicy = Object.freeze({
  allowPrivileged: false,
  allowHostNetwork: false,
  allowedHostPaths: Object.freeze([]),
  allowedCapabilities: Object.freeze([]),
});

/** The parts of a container request a security policy governs. */
export type SecurityAsks = Pick<ContainerRequest, 'privileged' | 'network' | 'capAdd' | 'workspace' | 'outputs' | 'mounts'>;

const HOST_PATH = 'host path';

const within = (path: string, folder: string) => path === folder || path.startsWith(folder.endsWith('/') ? folder : `${folder}/`);

/** Where a path really leads once links are resolved; of a path that does not exist (yet), the part that does. */
function resolved(path: string): string {
  try {
    return realpathSync.native(path);
  } catch {
    const parent = posix.dirname(path);
    return parent === path ? path : posix.join(resolved(parent), posix.basename(path));
  }
}

/**
 * Whether `path` is `folder` or below it, both as written and where links lead: a link placed inside an allowed
 * folder (by a job that mounts it read-write, say) must not open the way to the rest of the host.
 */
export function isWithinFolder(path: string, folder: string): boolean {
  return within(path, folder) && within(resolved(path), resolved(folder));
}

/** Whether one of the two paths is the other or inside it, as written or where links lead. */
export function pathsOverlap(a: string, b: string): boolean {
  const forms = (path: string) => [path, resolved(path)];
  return forms(a).some((x) => forms(b).some((y) => within(x, y) || within(y, x)));
}

/**
 * Everything `asks` needs that `policy` does not allow, in words ("privileged mode", "host path /srv/x"); empty
 * when the policy allows it all. Folders strictly inside `mountRoots` (the ones Trainyard creates under its data
 * directory) are always allowed; the roots themselves are not, so the database and secrets beside them never
 * reach a container.
 */
export function needsBeyondPolicy(asks: SecurityAsks, policy: SecurityPolicy, mountRoots: readonly string[] = []): string[] {
  const needs: string[] = [];
  if (asks.privileged === true && !policy.allowPrivileged) needs.push('privileged mode');
  if (asks.network === 'host' && !policy.allowHostNetwork) needs.push('the host network');
  for (const { hostPath } of bindMounts(asks)) {
    const ours = mountRoots.some((root) => isWithinFolder(hostPath, root) && resolved(hostPath) !== resolved(root));
    if (!ours && !policy.allowedHostPaths.some((allowed) => isWithinFolder(hostPath, allowed))) needs.push(`${HOST_PATH} ${hostPath}`);
  }
  const allowedCaps = new Set(policy.allowedCapabilities.map(normalizeCapability));
  for (const cap of new Set((asks.capAdd ?? []).map(normalizeCapability))) {
    if (!allowedCaps.has(cap)) needs.push(`capability ${cap}`);
  }
  return needs;
}

/** The 403 for a workload of `project` that needs what its policy does not allow. */
export function policyRefusal(project: string, needs: readonly string[]): HttpError {
  const hostPathHint = needs.some((need) => need.startsWith(HOST_PATH)) ? ' (containers mount only folders Trainyard creates under its data directory, and host folders the policy allows)' : '';
  return forbidden(`the security policy of project "${project}" does not allow ${needs.join(', ')}${hostPathHint}; a site admin can allow it for the project`);
}

/** Throws a 403 listing everything the request asks for that the project's policy does not allow. */
export function checkSecurityPolicy(request: ContainerRequest, policy: SecurityPolicy, mountRoots: readonly string[]): void {
  const needs = needsBeyondPolicy(request, policy, mountRoots);
  if (needs.length > 0) throw policyRefusal(request.project, needs);
}
