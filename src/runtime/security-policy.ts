import { forbidden } from '../lib/errors.ts';
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

const within = (path: string, folder: string) => path === folder || path.startsWith(folder.endsWith('/') ? folder : `${folder}/`);

/**
 * Throws a 403 listing everything the request asks for that the project's policy does not allow.
 * Folders strictly inside `mountRoots` (the ones Trainyard creates under its data directory) are always allowed;
 * the roots themselves are not, so the database and secrets beside them never reach a container.
 */
export function checkSecurityPolicy(request: ContainerRequest, policy: SecurityPolicy, mountRoots: readonly string[]): void {
  const refused: string[] = [];
  let hostPathRefused = false;
  if (request.privileged === true && !policy.allowPrivileged) refused.push('privileged mode');
  if (request.network === 'host' && !policy.allowHostNetwork) refused.push('the host network');
  for (const { hostPath } of bindMounts(request)) {
    const ours = mountRoots.some((root) => hostPath !== root && within(hostPath, root));
    if (!ours && !policy.allowedHostPaths.some((allowed) => within(hostPath, allowed))) {
      refused.push(`host path ${hostPath}`);
      hostPathRefused = true;
    }
  }
  const allowedCaps = new Set(policy.allowedCapabilities.map(normalizeCapability));
  for (const cap of request.capAdd ?? []) {
    if (!allowedCaps.has(normalizeCapability(cap))) refused.push(`capability ${normalizeCapability(cap)}`);
  }
  if (refused.length > 0) {
    throw forbidden(
      `the security policy of project "${request.project}" does not allow ${refused.join(', ')}` +
        (hostPathRefused ? ' (containers mount only folders Trainyard creates under its data directory)' : '') +
        '; a site admin can allow it for the project',
    );
  }
}
