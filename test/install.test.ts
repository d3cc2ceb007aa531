import { spawn } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { finished, ROOT, runScript } from './helpers/processes.ts';

const install = (env: NodeJS.ProcessEnv) =>
  finished(spawn('bash', ['install.sh', '--no-start'], { cwd: ROOT, env: { ...process.env, ...env }, stdio: 'pipe' }), undefined, 120_000);

describe('install.sh (development install)', () => {
  // install.sh runs `npm ci` when the lockfile is newer than node_modules; doing that under a running test suite would
  // pull the ground from under it, so the suite insists on installed dependencies instead.
  const installed = statSync(join(ROOT, 'node_modules/.package-lock.json')).mtimeMs;
  if (statSync(join(ROOT, 'package-lock.json')).mtimeMs > installed) throw new Error('dependencies are out of date: run npm ci first');

  it('creates the data directory and the first admin, and is safe to run again', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'trainyard-install-')), 'data');
    const env = { TRAINYARD_DATA: dataDir, TRAINYARD_ADMIN_PASSWORD: 'install-admin-1', TRAINYARD_ADMIN_USER: 'boss' };

    const first = await install(env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain('Created site admin boss');
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);

    const second = await install(env);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain('an admin exists already');

    const users = await runScript('src/cli/yard.ts', ['admin', 'users', '--json', '--data', dataDir]);
    expect(JSON.parse(users.stdout).users).toMatchObject([{ username: 'boss', isAdmin: true }]);
  });

  it('refuses to guess a password when there is no terminal to ask on', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'trainyard-install-')), 'data');
    const result = await install({ TRAINYARD_DATA: dataDir, TRAINYARD_ADMIN_PASSWORD: '' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('set TRAINYARD_ADMIN_PASSWORD');
  });
});
