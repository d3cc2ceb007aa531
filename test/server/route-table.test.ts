import { beforeAll, describe, expect, it } from 'vitest';
import { isMachinePath } from '../../src/server/context.ts';
import { PUBLIC_ROUTES } from '../../src/server/server.ts';
import { createTestApp, type TestApp } from '../helpers/test-app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});

/** Every handler in the router, as `METHOD /path`, middleware left out. */
function routeTable(test: TestApp): Array<{ method: string; path: string }> {
  const seen = new Set<string>();
  return test.http.routes
    .filter((route) => route.method !== 'ALL')
    .filter((route) => {
      const key = `${route.method} ${route.path}`;
      return !seen.has(key) && seen.add(key);
    });
}

const concrete = (path: string) => path.replace(/:[a-zA-Z]+/g, 'x');

describe('route table', () => {
  it('has the routes the dashboard and API need', () => {
    const routes = routeTable(t).map((route) => `${route.method} ${route.path}`);
    expect(routes.length).toBeGreaterThan(20);
    for (const route of PUBLIC_ROUTES) expect(routes).toContain(route);
  });

  it('every non-public route refuses an anonymous caller', async () => {
    const exposed: string[] = [];
    for (const { method, path } of routeTable(t)) {
      if (PUBLIC_ROUTES.includes(`${method} ${path}`)) continue;
      const response = await t.request(concrete(path), { method, headers: { Upgrade: 'websocket' } });
      const refused = isMachinePath(path)
        ? response.status === 401
        : response.status === 302 && response.headers.get('location')?.startsWith('/login');
      if (!refused) exposed.push(`${method} ${path} -> ${response.status}`);
    }
    expect(exposed).toEqual([]);
  });

  it('htmx requests without a session are sent to the login page', async () => {
    const response = await t.request('/settings/tokens', { headers: { 'HX-Request': 'true' } });
    expect(response.status).toBe(401);
    expect(response.headers.get('HX-Redirect')).toBe('/login?next=%2Fsettings%2Ftokens');
  });

  it('public routes answer without a credential', async () => {
    for (const path of ['/health', '/login']) expect((await t.request(path)).status).toBe(200);
  });

  it('a multipart part URL without a valid signature is refused by its signature check', async () => {
    const response = await t.request(`/api/2.0/mlflow-artifacts/mpu/part/${'a'.repeat(32)}/1`, { method: 'PUT', body: 'x' });
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ error_code: 'PERMISSION_DENIED' });
  });
});
