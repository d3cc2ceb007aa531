import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { runScript, type Finished } from '../helpers/processes.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'trainyard-cli-policy-'));
const shared = mkdtempSync(join(tmpdir(), 'trainyard-cli-shared-'));
afterAll(() => {
  for (const dir of [dataDir, shared]) rmSync(dir, { recursive: true, force: true });
});

const policy = (...args: string[]): Promise<Finished> => runScript('src/cli/yard.ts', ['admin', 'project-policy', ...args, '--data', dataDir]);
const json = (result: Finished) => (JSON.parse(result.stdout) as { policy: Record<string, unknown> }).policy;

describe('yard admin project-policy', () => {
  it('shows the defaults of a project no site admin has set a policy for', async () => {
    const shown = await policy('default');
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout.split('\n')).toEqual([
      'project       default',
      'privileged    not allowed',
      'host network  not allowed',
      'host paths    none',
      'capabilities  none',
      'set           never (the defaults)',
      '',
    ]);
  });

  it('replaces the policy with what the options name, capabilities in any spelling', async () => {
    const set = await policy('default', '--allow-host-network', '--allow-host-path', shared, '--allow-cap', 'cap_sys_ptrace', '--allow-cap', 'NET_ADMIN', '--json');
    expect(set.code, set.stderr).toBe(0);
    expect(json(set)).toEqual({
      project: 'default',
      allowPrivileged: false,
      allowHostNetwork: true,
      allowedHostPaths: [shared],
      allowedCapabilities: ['SYS_PTRACE', 'NET_ADMIN'],
      updatedAt: expect.any(Number),
      updatedBy: 'cli',
    });
    const shown = await policy('default');
    expect(shown.stdout).toContain(`host paths    ${shared}\n`);
    expect(shown.stdout).toContain('capabilities  SYS_PTRACE, NET_ADMIN\n');
    expect(shown.stdout).toMatch(/^set {11}\d{4}-\d\d-\d\d \d\d:\d\d UTC by cli$/m);
  });

  it.each([
    ['an unknown capability', ['default', '--allow-cap', 'FLY'], /"FLY" is not a Linux capability/],
    ['a relative host path', ['default', '--allow-host-path', 'data'], /"data" must be an absolute, normalized path/],
    ['the data directory', ['default', '--allow-host-path', dataDir], /inside or above Trainyard's data directory/],
    ['an unknown project', ['atlantis'], /project "atlantis" does not exist/],
    ['--reset with an allowance', ['default', '--reset', '--allow-privileged'], /--reset goes back to the defaults: give it alone/],
  ])('exits 2 with the reason on %s', async (_name, args, message) => {
    const refused = await policy(...args);
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toMatch(message);
  });

  it('a refused change leaves the policy as it was', async () => {
    expect(json(await policy('default', '--json'))).toMatchObject({ allowHostNetwork: true, allowedHostPaths: [shared] });
  });

  it('--reset goes back to the defaults; every change is in the audit log', async () => {
    const reset = await policy('default', '--reset', '--json');
    expect(json(reset)).toMatchObject({ allowPrivileged: false, allowHostNetwork: false, allowedHostPaths: [], allowedCapabilities: [], updatedBy: 'cli' });
    const app = createApp(loadConfig({ dataDir, logLevel: 'silent' }, {}));
    try {
      const events = app.audit.list().filter((event) => event.action === 'policy.set');
      expect(events.map((event) => [event.actor, event.target, event.detail])).toEqual([
        ['cli', 'default', { allowPrivileged: false, allowHostNetwork: false, allowedHostPaths: [], allowedCapabilities: [] }],
        ['cli', 'default', { allowPrivileged: false, allowHostNetwork: true, allowedHostPaths: [shared], allowedCapabilities: ['SYS_PTRACE', 'NET_ADMIN'] }],
      ]);
    } finally {
      app.close();
    }
  });
});
