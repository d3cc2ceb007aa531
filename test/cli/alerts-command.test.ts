import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertJson } from '../../src/alerts/alert-json.ts';
import { ADMIN, MEMBER, createTestApp, type TestApp } from '../helpers/test-app.ts';
import { ROOT, finished, type Finished } from '../helpers/processes.ts';
import { gpuReading, publishSample, submitJob } from '../alerts/alert-fixtures.ts';

let t: TestApp;
let server: Server;
const env: NodeJS.ProcessEnv = { XDG_CONFIG_HOME: mkdtempSync(join(tmpdir(), 'trainyard-cli-alerts-')) };

/** Runs `yard alerts` against the test app's router, served on a free port, as `username`. */
function yard(args: string[], username = MEMBER.username): Promise<Finished> {
  const { secret } = t.app.tokens.create(t.app.users.get(username), { name: `cli ${args.join(' ')}`.slice(0, 100), scope: 'read' }, { actor: 'test' });
  return finished(spawn(process.execPath, [join(ROOT, 'src/cli/yard.ts'), 'alerts', ...args], { cwd: ROOT, env: { ...process.env, ...env, TRAINYARD_TOKEN: secret }, stdio: 'pipe' }));
}

const HOT_GPU = 'GPU 0 (NVIDIA H100 80GB (simulated)) is at 95 °C, at or above the limit of 85 °C';

/**
 * At 13:01 a GPU runs hot (machine-wide) and two jobs have waited an hour: one in `secret` (admins only), one in
 * `default`, which starts, so that its alert resolves at 13:02.
 */
beforeAll(async () => {
  t = await createTestApp();
  t.app.projects.create({ name: 'secret' }, { actor: 'test' });
  t.app.alerts.start();
  const [gpu] = (await t.app.gpus.list()).devices;
  const hotGpu = () => void publishSample(t, { gpus: [gpuReading(gpu!.uuid, 0, { temperature: 95 })] });
  submitJob(t, ADMIN.username, { project: 'secret', name: 'hidden-training' });
  const member = submitJob(t, MEMBER.username, { name: 'visible-training' });
  t.clock.advance(61 * 60_000);
  hotGpu();
  t.app.jobs.move(member.id, 'queued', 'starting', 'placed');
  t.clock.advance(60_000);
  hotGpu();

  server = serve({ fetch: t.http.fetch, hostname: '127.0.0.1', port: 0 }) as Server;
  await new Promise((resolve) => server.once('listening', resolve));
  env.TRAINYARD_URL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

/** The table's rows without the header, each cut into its columns at runs of two or more spaces. */
const rowsOf = (stdout: string) =>
  stdout
    .trimEnd()
    .split('\n')
    .slice(1)
    .map((line) => line.split(/ {2,}/));

describe('yard alerts', () => {
  it('lists the open alerts the caller may see as aligned columns, the message last', async () => {
    const { code, stdout, stderr } = await yard([]);
    expect(code, stderr).toBe(0);
    expect(stdout).toBe(
      [
        'STATE  SEVERITY  RULE             FIRED                 RESOLVED  MESSAGE',
        `open   critical  gpu-temperature  2026-11-22 13:01 UTC  —         ${HOT_GPU}`,
        '',
      ].join('\n'),
    );
  });

  it('--resolved lists only the resolved ones, with when they resolved', async () => {
    const { code, stdout } = await yard(['--resolved']);
    expect(code).toBe(0);
    expect(rowsOf(stdout)).toEqual([['resolved', 'warning', 'job-queued', '2026-11-22 13:01 UTC', '2026-11-22 13:02 UTC', expect.stringContaining('"visible-training" has waited in the queue')]]);
  });

  it("--all lists the open ones first, then the resolved; a site admin sees every project's", async () => {
    const { code, stdout } = await yard(['--all'], ADMIN.username);
    expect(code).toBe(0);
    const rows = rowsOf(stdout);
    expect(rows.map(([state, , rule]) => `${state} ${rule}`).sort()).toEqual(['open gpu-temperature', 'open job-queued', 'resolved job-queued']);
    expect(rows.at(-1)![0]).toBe('resolved');
    expect(stdout).toContain('"hidden-training" has waited in the queue');
    expect((await yard(['--all'])).stdout).not.toContain('hidden-training');
  });

  it('--json prints what the API answers', async () => {
    const { code, stdout } = await yard(['--all', '--json']);
    expect(code).toBe(0);
    const { alerts } = JSON.parse(stdout) as { alerts: AlertJson[] };
    expect(alerts.map(({ state, rule, project }) => [state, rule, project])).toEqual([
      ['open', 'gpu-temperature', null],
      ['resolved', 'job-queued', 'default'],
    ]);
    expect(alerts[0]).toMatchObject({ severity: 'critical', message: HOT_GPU, firedAt: Date.UTC(2026, 10, 22, 13, 1), resolvedAt: null });
  });

  it('refuses --all with --resolved as a usage error', async () => {
    const { code, stdout, stderr } = await yard(['--all', '--resolved']);
    expect(code).toBe(2);
    expect(stderr).toContain("error: option '--all' cannot be used with option '--resolved'");
    expect(stdout).toBe('');
  });
});
