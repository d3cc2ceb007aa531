import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VERSION } from '../../src/version.ts';
import { finished, ROOT } from '../helpers/processes.ts';

const BUILD_TIMEOUT_MS = 180_000;
const PASSWORD = 'binary-admin-1';
const MLFLOW = '/api/2.0/mlflow';
const basic = (user: string, password: string) => ({ Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

/** The environment of the test runner without its TRAINYARD_* settings, plus these. */
function env(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('TRAINYARD_')));
  return { ...clean, TRAINYARD_CONFIG: '', ...extra };
}

describe('the binary (npm run build)', () => {
  let dir = '';
  const path = (name: string) => join(dir, name);
  const run = (command: 'trainyard' | 'yard', args: string[], extra: NodeJS.ProcessEnv = {}, input?: string) =>
    finished(spawn(path(command), args, { cwd: dir, env: env(extra), stdio: 'pipe' }), input, 20_000);

  beforeAll(async () => {
    const build = await finished(spawn(process.execPath, ['scripts/build-binary.ts'], { cwd: ROOT, stdio: 'pipe' }), undefined, BUILD_TIMEOUT_MS);
    expect(build.code, build.stderr).toBe(0);
    // A copy outside the checkout, run from there: it can only use what it carries.
    dir = mkdtempSync(join(tmpdir(), 'trainyard-binary-'));
    copyFileSync(join(ROOT, 'dist/trainyard'), path('trainyard'));
    chmodSync(path('trainyard'), 0o755);
    symlinkSync('trainyard', path('yard'));
  }, BUILD_TIMEOUT_MS);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is the yard CLI: with arguments, or under the name yard', async () => {
    for (const command of ['trainyard', 'yard'] as const) {
      const version = await run(command, ['--version']);
      expect(version.code, version.stderr).toBe(0);
      expect(version.stdout.trim()).toBe(VERSION);
    }
    // Under the name yard and with no arguments it is still the CLI (usage, exit 2), not a server that never returns.
    const bare = await run('yard', []);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('Usage: yard');

    const unknown = await run('trainyard', ['no-such-command']);
    expect(unknown.code).toBe(2);
    const badPort = await run('trainyard', ['server', '--port', 'http', '--data', path('unused')]);
    expect(badPort.code).toBe(2);
    expect(badPort.stderr.trim().split('\n')).toEqual([expect.stringMatching(/invalid setting port/)]);
  });

  it('administers a local data directory: migrations and SQLite come from inside the binary', async () => {
    const data = path('admin-data');
    const created = await run('trainyard', ['admin', 'create-user', '--admin', '-u', 'boss', '--password-stdin', '--data', data], {}, 'boss-password-1');
    expect(created.code, created.stderr).toBe(0);
    const users = await run('yard', ['admin', 'users', '--json', '--data', data]);
    expect(users.code, users.stderr).toBe(0);
    expect(JSON.parse(users.stdout).users).toMatchObject([{ username: 'boss', isAdmin: true }]);
    // The SQLite addon is kept beside the database, private to its owner, once per content.
    const addons = readdirSync(data).filter((name) => name.endsWith('.node'));
    expect(addons).toEqual([expect.stringMatching(/^\.better_sqlite3-[0-9a-f]{16}\.node$/)]);
    expect(statSync(join(data, addons[0]!)).mode & 0o777).toBe(0o700);
  });

  it('serves the appliance: health, Basic sign-in, the MLflow API, the dashboard and its assets; stops on SIGTERM', async () => {
    const data = path('server-data');
    const server = spawn(path('trainyard'), ['server', '--port', '0', '--host', '127.0.0.1', '--data', data], {
      cwd: dir,
      env: env({ TRAINYARD_ADMIN_PASSWORD: PASSWORD, TRAINYARD_LOG_LEVEL: 'info' }),
      stdio: 'pipe',
    });
    const exited = finished(server, undefined, 30_000);
    try {
      const base = await listeningUrl(server.stdout!);
      const call = async (method: string, route: string, body?: unknown) => {
        const response = await fetch(base + route, {
          method,
          headers: { ...basic('admin', PASSWORD), 'Content-Type': 'application/json' },
          ...(body !== undefined && { body: JSON.stringify(body) }),
        });
        return { status: response.status, json: (await response.json()) as Record<string, any> };
      };

      expect(await (await fetch(`${base}/health`)).json()).toEqual({ status: 'ok', version: VERSION });
      expect((await call('GET', '/api/v1/whoami')).json.user).toMatchObject({ username: 'admin', isAdmin: true });
      expect((await fetch(`${base}/api/v1/whoami`, { headers: basic('admin', 'wrong-password') })).status).toBe(401);

      const { experiment_id } = (await call('POST', `${MLFLOW}/experiments/create`, { name: 'from-the-binary' })).json;
      const created = await call('POST', `${MLFLOW}/runs/create`, { experiment_id, start_time: 1_700_000_000_000 });
      const runId: string = created.json.run.info.run_id;
      const logged = await call('POST', `${MLFLOW}/runs/log-metric`, { run_id: runId, key: 'loss', value: 0.25, timestamp: 1_700_000_000_001, step: 3 });
      expect(logged.status).toBe(200);
      const refused = await call('POST', `${MLFLOW}/runs/log-metric`, { run_id: runId, key: 'loss', value: 'low', timestamp: 1, step: 4 });
      expect(refused).toMatchObject({ status: 400, json: { error_code: 'INVALID_PARAMETER_VALUE' } });
      const history = await call('GET', `${MLFLOW}/metrics/get-history?run_id=${runId}&metric_key=loss`);
      expect(history.json.metrics).toEqual([expect.objectContaining({ key: 'loss', value: 0.25, step: 3 })]);

      const login = await fetch(`${base}/login`);
      expect(login.status).toBe(200);
      const page = await login.text();
      const htmx = /\/static\/[0-9a-f]{12}\/htmx\.min\.js/.exec(page)?.[0];
      expect(htmx, 'the login page links htmx by its content hash').toBeDefined();
      const asset = await fetch(base + htmx!);
      expect(asset.status).toBe(200);
      expect(asset.headers.get('content-type')).toContain('javascript');
      expect(Buffer.from(await asset.arrayBuffer()).equals(readFileSync(join(ROOT, 'node_modules/htmx.org/dist/htmx.min.js')))).toBe(true);

      // The same binary as the CLI, against this server.
      const config = { XDG_CONFIG_HOME: path('config') };
      const signedIn = await run('yard', ['login', base, '--username', 'admin', '--password-stdin'], config, PASSWORD);
      expect(signedIn.code, signedIn.stderr).toBe(0);
      const whoami = await run('yard', ['whoami', '--json'], config);
      expect(whoami.code, whoami.stderr).toBe(0);
      expect(JSON.parse(whoami.stdout)).toMatchObject({ url: base, user: { username: 'admin' } });
    } finally {
      server.kill('SIGTERM');
    }
    const result = await exited;
    expect(result.code, result.stderr).toBe(0);
  });
});

/** The URL from the appliance's "trainyard is listening" log line (it was asked for any free port). */
function listeningUrl(stdout: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`the binary did not start listening; it wrote: ${seen}`)), 20_000);
    stdout.on('data', (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      const url = /"url":"(http:\/\/[^"]+)"/.exec(seen)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve(url);
      }
    });
  });
}
