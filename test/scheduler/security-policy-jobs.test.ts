import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SecurityPolicyInput } from '../../src/auth/project-policy.ts';
import { requireDocker } from '../helpers/environment.ts';
import { AWAIT_GO, createSchedulerWorld, type SchedulerWorld } from './scheduler-fixtures.ts';

// Throws in CI when no engine answers (the file fails); undefined locally (the file skips).
const docker = await requireDocker();

const SYS_PTRACE_BIT = 19n;

describe.skipIf(!docker)("jobs on the engine under their project's security policy", () => {
  let w: SchedulerWorld;
  /** A host folder outside the data directory that a site admin shares with the project `shared`. */
  let shared: string;
  const mounts = () => [{ hostPath: shared, containerPath: '/data' }];
  const setPolicy = (input: SecurityPolicyInput) => w.app.projects.setSecurityPolicy(w.app.projects.get('shared'), input, { actor: 'test' });

  beforeAll(async () => {
    w = await createSchedulerWorld(docker as Dockerode);
    shared = mkdtempSync(join(tmpdir(), 'trainyard-shared-'));
    chmodSync(shared, 0o755);
    writeFileSync(join(shared, 'hello.txt'), 'hello from the host\n');
    w.app.projects.create({ name: 'shared' }, { actor: 'test' });
    return async () => {
      await w.close();
      rmSync(shared, { recursive: true, force: true });
    };
  });

  it('refuses at submission, before anything is queued, a capability the default policy does not allow', () => {
    const before = w.app.jobs.inStates(['queued', 'starting', 'running', 'succeeded', 'failed']).length;
    expect(() => w.submit('true', { capabilities: ['SYS_PTRACE'] })).toThrow(
      expect.objectContaining({ status: 403, message: 'the security policy of project "default" does not allow capability SYS_PTRACE; a site admin can allow it for the project' }),
    );
    expect(() => w.submit('cat /data/hello.txt', { project: 'shared', mounts: mounts() })).toThrow(/does not allow host path/);
    expect(w.app.jobs.inStates(['queued', 'starting', 'running', 'succeeded', 'failed'])).toHaveLength(before);
  });

  it('mounts a host folder the policy allows, read-only unless the job asks otherwise', async () => {
    setPolicy({ allowedHostPaths: [shared] });
    const script = 'cat /data/hello.txt; touch /data/new 2>/dev/null || echo read-only';
    const job = await w.until(w.submit(script, { project: 'shared', mounts: mounts() }), 'succeeded');
    expect(w.logOf(job, 'stdout')).toEqual(['hello from the host', 'read-only']);
  });

  it('adds a capability the policy allows to the container', async () => {
    setPolicy({ allowedHostPaths: [shared], allowedCapabilities: ['SYS_PTRACE'] });
    const job = await w.until(w.submit("grep CapEff /proc/self/status | cut -f2", { project: 'shared', capabilities: ['cap_sys_ptrace'] }), 'succeeded');
    const [effective] = w.logOf(job, 'stdout');
    expect(effective).toMatch(/^[0-9a-f]{16}$/);
    expect((BigInt(`0x${effective}`) >> SYS_PTRACE_BIT) & 1n).toBe(1n);
  });

  it('fails a queued job at its start once the policy no longer allows what it was submitted with', async () => {
    setPolicy({ allowedHostPaths: [shared] });
    const blocker = w.submit(AWAIT_GO, { gpus: 4 });
    await w.until(blocker, 'running');
    const job = w.submit('cat /data/hello.txt', { project: 'shared', gpus: 1, mounts: mounts() });
    await w.until(job, (current) => current.state === 'queued' && current.reason !== 'waiting to be placed');
    setPolicy({});
    w.release(blocker);
    const failed = await w.until(job, 'failed');
    expect(failed.reason).toBe(
      `the security policy of project "shared" does not allow host path ${shared} (containers mount only folders Trainyard creates under its data directory, and host folders the policy allows); a site admin can allow it for the project`,
    );
    expect(failed).toMatchObject({ attempts: 0, containerId: null });
    expect(w.logOf(failed, 'system')).toEqual([failed.reason]);
    await w.until(blocker, 'succeeded');
  });
});
