import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UsageReport } from '../../src/accounting/usage-report.ts';
import { ADMIN, MEMBER, createTestApp, type TestApp } from '../helpers/test-app.ts';
import { ROOT, finished, type Finished } from '../helpers/processes.ts';
import { recordSomeUsage } from '../accounting/usage-fixtures.ts';

let t: TestApp;
let server: Server;
const env: NodeJS.ProcessEnv = { XDG_CONFIG_HOME: mkdtempSync(join(tmpdir(), 'trainyard-cli-usage-')) };

/** Runs `yard` against the test app's router, served on a free port, as `username`. */
function yard(args: string[], username = ADMIN.username): Promise<Finished> {
  const { secret } = t.app.tokens.create(t.app.users.get(username), { name: `cli ${args.join(' ')}`.slice(0, 100), scope: 'read' }, { actor: 'test' });
  return finished(spawn(process.execPath, [join(ROOT, 'src/cli/yard.ts'), 'usage', ...args], { cwd: ROOT, env: { ...process.env, ...env, TRAINYARD_TOKEN: secret }, stdio: 'pipe' }));
}

beforeAll(async () => {
  t = await createTestApp();
  await recordSomeUsage(t, { member: MEMBER.username, admin: ADMIN.username });
  server = serve({ fetch: t.http.fetch, hostname: '127.0.0.1', port: 0 }) as Server;
  await new Promise((resolve) => server.once('listening', resolve));
  env.TRAINYARD_URL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

describe('yard usage', () => {
  it('prints a row per project for the last 7 days, and the total', async () => {
    const { code, stdout, stderr } = await yard([]);
    expect(code, stderr).toBe(0);
    expect(stderr).toBe('Usage from 2026-11-17 to 2026-11-23 (UTC days), by project\n');
    expect(stdout).toBe(
      [
        'PROJECT  GPU-H ALLOCATED  GPU-H USED  UTIL  CPU-H  MEM GIB-H  JOBS',
        'default  2.50             0.50        50%   2.00   4.00       1',
        'vision   0.75             0.20        80%   0.00   0.00       1',
        'TOTAL    3.25             0.70        56%   2.00   4.00       2',
        '',
      ].join('\n'),
    );
  });

  it('rows per day with --by day, within --from and --to', async () => {
    const { code, stdout } = await yard(['--from', '2026-11-23', '--to', '2026-11-23', '--by', 'day']);
    expect(code).toBe(0);
    expect(stdout.split('\n').slice(1, 3)).toEqual(['2026-11-23  1.50             0.25        50%   1.00   2.00       1', 'TOTAL       1.50             0.25        50%   1.00   2.00       1']);
  });

  it('--json prints the report, day by day', async () => {
    const { code, stdout } = await yard(['--by', 'user', '--json'], MEMBER.username);
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as UsageReport;
    expect(report).toMatchObject({ from: '2026-11-17', to: '2026-11-23', by: 'user', total: { allocatedGpuHours: 2.5 } });
    expect(report.groups.map((group) => [group.name, group.days.map((day) => day.day)])).toEqual([[MEMBER.username, ['2026-11-22', '2026-11-23']]]);
  });

  it.each([
    ['a day in another format', ['--from', '23/11/2026'], 2, 'yard: --from takes a day written YYYY-MM-DD, got "23/11/2026"\n'],
    ['an unknown grouping', ['--by', 'team'], 2, 'yard: --by takes project, user, day, got "team"\n'],
    ['from after to', ['--from', '2026-11-23', '--to', '2026-11-01'], 1, 'yard: from (2026-11-23) is after to (2026-11-01)\n'],
  ])('refuses %s', async (_name, args, exitCode, message) => {
    const { code, stdout, stderr } = await yard(args);
    expect(code).toBe(exitCode);
    expect(stderr).toBe(message);
    expect(stdout).toBe('');
  });
});
