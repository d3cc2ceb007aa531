import { describe, expect, it } from 'vitest';
import type { ContainerRequest } from '../../src/runtime/container-request.ts';
import { checkSecurityPolicy, DEFAULT_SECURITY_POLICY, type SecurityPolicy } from '../../src/runtime/security-policy.ts';

const ROOTS = ['/srv/trainyard/snapshots', '/srv/trainyard/outputs'];
const BASE: ContainerRequest = { kind: 'job', id: '1', project: 'vision', image: 'busybox', command: ['true'] };
const LENIENT: SecurityPolicy = {
  allowPrivileged: true,
  allowHostNetwork: true,
  allowedHostPaths: ['/mnt/shared-datasets'],
  allowedCapabilities: ['SYS_PTRACE', 'CAP_NET_ADMIN'],
};

const check = (request: Partial<ContainerRequest>, policy: SecurityPolicy = DEFAULT_SECURITY_POLICY) =>
  checkSecurityPolicy({ ...BASE, ...request }, policy, ROOTS);

describe('checkSecurityPolicy', () => {
  const refused: Array<{ name: string; request: Partial<ContainerRequest>; message: RegExp }> = [
    { name: 'privileged mode', request: { privileged: true }, message: /does not allow privileged mode/ },
    { name: 'the host network', request: { network: 'host' }, message: /does not allow the host network/ },
    { name: 'a host path outside Trainyard\'s folders', request: { mounts: [{ hostPath: '/etc', containerPath: '/etc2', readOnly: true }] }, message: /host path \/etc \(containers mount only folders Trainyard creates/ },
    { name: 'a mount root itself (the data dir\'s own files)', request: { outputs: { hostPath: '/srv/trainyard/outputs' } }, message: /host path \/srv\/trainyard\/outputs/ },
    { name: 'a sibling whose name extends a root', request: { workspace: { hostPath: '/srv/trainyard/snapshots-other/1', readOnly: true } }, message: /host path \/srv\/trainyard\/snapshots-other\/1/ },
    { name: 'the docker socket', request: { mounts: [{ hostPath: '/var/run/docker.sock', containerPath: '/var/run/docker.sock', readOnly: false }] }, message: /host path \/var\/run\/docker.sock/ },
    { name: 'an added capability', request: { capAdd: ['SYS_ADMIN'] }, message: /does not allow capability SYS_ADMIN/ },
  ];
  for (const row of refused) {
    it(`refuses ${row.name} by default with a 403 naming it`, () => {
      const denied = { status: 403, code: 'PERMISSION_DENIED', message: expect.stringMatching(row.message) };
      expect(() => check(row.request)).toThrow(expect.objectContaining(denied));
    });
  }

  it('names every refusal at once, and the project', () => {
    expect(() => check({ privileged: true, network: 'host', capAdd: ['NET_ADMIN'] })).toThrow(
      'the security policy of project "vision" does not allow privileged mode, the host network, capability NET_ADMIN; a site admin can allow it for the project',
    );
  });

  const allowed: Array<{ name: string; request: Partial<ContainerRequest>; policy?: SecurityPolicy }> = [
    { name: 'the safe defaults', request: {} },
    { name: 'the none network', request: { network: 'none' } },
    { name: 'folders inside Trainyard\'s mount roots', request: { workspace: { hostPath: '/srv/trainyard/snapshots/1', readOnly: true }, outputs: { hostPath: '/srv/trainyard/outputs/1/a' } } },
    { name: 'privileged and host network where the policy allows them', request: { privileged: true, network: 'host' }, policy: LENIENT },
    { name: 'an allowed host path and what is below it', request: { mounts: [{ hostPath: '/mnt/shared-datasets/imagenet', containerPath: '/data', readOnly: true }] }, policy: LENIENT },
    { name: 'allowed capabilities, in any spelling', request: { capAdd: ['cap_sys_ptrace', 'NET_ADMIN'] }, policy: LENIENT },
  ];
  for (const row of allowed) {
    it(`allows ${row.name}`, () => expect(() => check(row.request, row.policy)).not.toThrow());
  }

  it('an allowance does not stretch: capability and path stay exact', () => {
    expect(() => check({ capAdd: ['SYS_ADMIN'] }, LENIENT)).toThrow(/capability SYS_ADMIN/);
    expect(() => check({ mounts: [{ hostPath: '/mnt/shared', containerPath: '/data', readOnly: true }] }, LENIENT)).toThrow(/host path \/mnt\/shared/);
  });
});
