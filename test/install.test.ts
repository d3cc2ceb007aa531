import { spawn } from 'node:child_process';
import { lstatSync, mkdtempSync, readlinkSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { finished, ROOT } from './helpers/processes.ts';

/** install.sh builds the binary (seconds; a minute on a busy machine) before anything else it does. */
const INSTALL_TIMEOUT_MS = 180_000;

const install = (env: NodeJS.ProcessEnv) =>
  finished(spawn('bash', ['install.sh', '--no-start'], { cwd: ROOT, env: { ...process.env, ...env }, stdio: 'pipe' }), undefined, INSTALL_TIMEOUT_MS);

const temp = () => mkdtempSync(join(tmpdir(), 'trainyard-install-'));

describe('install.sh', () => {
  // install.sh runs `npm ci` when the lockfile is newer than node_modules; doing that under a running test suite would
  // pull the ground from under it, so the suite insists on installed dependencies instead.
  const installed = statSync(join(ROOT, 'node_modules/.package-lock.json')).mtimeMs;
  if (statSync(join(ROOT, 'package-lock.json')).mtimeMs > installed) throw new Error('dependencies are out of date: run npm ci first');

  it('installs the binary as trainyard and yard, creates the data directory and the first admin, and is safe to run again', async () => {
    const [dataDir, binDir] = [join(temp(), 'data'), join(temp(), 'bin')];
    const env = { TRAINYARD_DATA: dataDir, TRAINYARD_BIN_DIR: binDir, TRAINYARD_ADMIN_PASSWORD: 'install-admin-1', TRAINYARD_ADMIN_USER: 'boss' };

    const first = await install(env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain('Created site admin boss');
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(binDir, 'trainyard')).mode & 0o777).toBe(0o755);
    expect(lstatSync(join(binDir, 'yard')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(binDir, 'yard'))).toBe('trainyard');

    const second = await install(env);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain(`installing trainyard and yard in ${binDir}\nup to date`);
    expect(second.stdout).toContain('an admin exists already');

    const users = await finished(spawn(join(binDir, 'yard'), ['admin', 'users', '--json', '--data', dataDir], { stdio: 'pipe' }));
    expect(users.code, users.stderr).toBe(0);
    expect(JSON.parse(users.stdout).users).toMatchObject([{ username: 'boss', isAdmin: true }]);
  }, 2 * INSTALL_TIMEOUT_MS);

  it('refuses to guess a password when there is no terminal to ask on', async () => {
    const result = await install({ TRAINYARD_DATA: join(temp(), 'data'), TRAINYARD_BIN_DIR: join(temp(), 'bin'), TRAINYARD_ADMIN_PASSWORD: '' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('set TRAINYARD_ADMIN_PASSWORD');
  }, INSTALL_TIMEOUT_MS);
});
