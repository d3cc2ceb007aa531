import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { createApp, type App } from '../../src/app.ts';
import { loadConfig, type ConfigInput } from '../../src/config.ts';
import { applyMigrations } from '../../src/db/migrate.ts';
import { bootstrapAuth } from '../../src/auth/bootstrap.ts';
import { createServer } from '../../src/server/server.ts';
import { SESSION_COOKIE } from '../../src/server/middleware/authenticate.ts';

export const ADMIN = { username: 'admin', password: 'admin-password-1' };
export const MEMBER = { username: 'mia', password: 'member-password-1' };

/**
 * Each test file evaluates this module anew, so this hook belongs to the file: it closes every app the file made.
 * A hook registered from inside createTestApp would not do, as createTestApp runs in a beforeAll, where vitest
 * accepts a hook without ever running it.
 */
const openApps: Array<() => void> = [];
afterAll(() => {
  for (const close of openApps.splice(0)) close();
});

export interface TestApp {
  app: App;
  http: ReturnType<typeof createServer>;
  /** A request through the in-process router, as from a client on 127.0.0.1. */
  request(path: string, init?: RequestInit): Promise<Response>;
  basic(user: { username: string; password: string }): string;
  /** A GET as `user` (HTTP Basic), read to the end. */
  get(path: string, user: { username: string; password: string }, headers?: Record<string, string>): Promise<{ status: number; text: string; headers: Headers }>;
  /** Signs in through the login form; returns the cookie and CSRF token a browser would hold. */
  signIn(user: { username: string; password: string }): Promise<{ cookie: string; csrf: string }>;
  clock: { now: number; advance(ms: number): void };
}

/**
 * A migrated appliance on a temporary data dir, with an admin and a member in the default project,
 * a controllable clock, and no network: requests go straight into the router.
 */
export async function createTestApp(overrides: ConfigInput = {}): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'trainyard-test-'));
  // Simulated GPUs: a developer's real ones never take part in the tests.
  const config = loadConfig({ dataDir, logLevel: 'silent', gpus: 'fake:4xH100-80GB', ...overrides }, {});
  const clock = { now: Date.UTC(2026, 10, 22, 12), advance: (ms: number) => void (clock.now += ms) };
  const app = createApp(config, { now: () => clock.now });
  applyMigrations(app.db);
  await bootstrapAuth({ users: app.users, projects: app.projects, adminUsername: ADMIN.username, adminPassword: ADMIN.password });
  app.tracking.experiments.ensureDefault();
  await app.users.create({ ...MEMBER, displayName: 'Mia Member' }, { actor: 'test' });
  const http = createServer(app);
  openApps.push(() => {
    app.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const basic = ({ username, password }: { username: string; password: string }) =>
    `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  const request = (path: string, init: RequestInit = {}) =>
    Promise.resolve(http.request(`http://127.0.0.1:8700${path}`, init));

  return {
    app,
    http,
    request,
    clock,
    basic,
    async get(path, user, headers = {}) {
      const response = await request(path, { headers: { Authorization: basic(user), ...headers } });
      return { status: response.status, text: await response.text(), headers: response.headers };
    },
    async signIn({ username, password }) {
      const response = await request('/login', {
        method: 'POST',
        body: new URLSearchParams({ username, password, next: '/' }),
      });
      const cookie = /trainyard_session=([^;]+)/.exec(response.headers.get('set-cookie') ?? '')?.[1];
      if (response.status !== 303 || !cookie) throw new Error(`sign-in failed with ${response.status}`);
      const page = await (await request('/settings/tokens', { headers: { Cookie: `${SESSION_COOKIE}=${cookie}` } })).text();
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1];
      if (!csrf) throw new Error('no CSRF token on the page');
      return { cookie: `${SESSION_COOKIE}=${cookie}`, csrf };
    },
  };
}
