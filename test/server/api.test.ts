import { beforeAll, describe, expect, it } from 'vitest';
import { runScenarios } from '../helpers/scenarios.ts';
import { ADMIN, MEMBER, createTestApp, type TestApp } from '../helpers/test-app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ maxBodyBytes: 4096 });
});
const ADMIN_BASIC = `Basic ${Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString('base64')}`;
const admin = () => ({ Authorization: t.basic(ADMIN) });
const member = () => ({ Authorization: t.basic(MEMBER) });

describe('identity API', () => {
  runScenarios(() => t, [
    { name: 'health is public', path: '/health', status: 200, json: { status: 'ok' } },
    { name: 'whoami needs a credential', path: '/api/v1/whoami', status: 401, json: { error_code: 'UNAUTHENTICATED' }, responseHeaders: { 'www-authenticate': /Bearer/ } },
    { name: 'unknown routes are 401 for strangers', path: '/api/v1/nope', status: 401 },
    { name: 'unsupported auth scheme', path: '/api/v1/whoami', headers: { Authorization: 'Digest abc' }, status: 401, contains: ['unsupported Authorization scheme'] },
    { name: 'malformed Basic credentials', path: '/api/v1/whoami', headers: { Authorization: 'Basic bm9jb2xvbg==' }, status: 401, contains: ['malformed Basic'] },
    { name: 'unknown bearer token', path: '/api/v1/whoami', headers: { Authorization: 'Bearer ty_nope' }, status: 401, contains: ['invalid, expired or revoked'] },
  ]);

  it('whoami answers with Basic credentials', async () => {
    const response = await t.request('/api/v1/whoami', { headers: admin() });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ user: { username: 'admin', isAdmin: true }, via: 'basic', projects: [{ name: 'default', role: 'admin' }] });
  });

  it('unknown routes are 404 with a message for a signed-in caller', async () => {
    const response = await t.request('/api/v1/nope', { headers: admin() });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error_code: 'ENDPOINT_NOT_FOUND' });
  });
});

describe('bad request bodies', () => {
  runScenarios(() => t, [
    { name: 'malformed JSON', method: 'POST', path: '/api/v1/tokens', headers: { Authorization: ADMIN_BASIC, 'Content-Type': 'application/json' }, body: '{"name":', status: 400, contains: ['not valid JSON'] },
    { name: 'not JSON at all', method: 'POST', path: '/api/v1/tokens', headers: { Authorization: ADMIN_BASIC, 'Content-Type': 'text/plain' }, body: 'name=x', status: 415 },
    { name: 'missing field', method: 'POST', path: '/api/v1/tokens', headers: { Authorization: ADMIN_BASIC }, body: {}, status: 400, json: { error_code: 'INVALID_PARAMETER_VALUE' }, contains: ['name'] },
    { name: 'wrong type', method: 'POST', path: '/api/v1/tokens', headers: { Authorization: ADMIN_BASIC }, body: { name: 42 }, status: 400, contains: ['name'] },
    { name: 'unknown field', method: 'POST', path: '/api/v1/tokens', headers: { Authorization: ADMIN_BASIC }, body: { name: 'x', colour: 'red' }, status: 400, contains: ['unknown field colour'] },
    { name: 'bad scope', method: 'POST', path: '/api/v1/tokens', headers: { Authorization: ADMIN_BASIC }, body: { name: 'x', scope: 'root' }, status: 400, contains: ['scope'] },
    { name: 'bad expiry', method: 'POST', path: '/api/v1/tokens', headers: { Authorization: ADMIN_BASIC }, body: { name: 'x', expiresIn: 'soon' }, status: 400, contains: ['not a duration'] },
    { name: 'oversized body', method: 'POST', path: '/api/v1/tokens', headers: { Authorization: ADMIN_BASIC }, body: { name: 'x'.repeat(5000) }, status: 413, json: { error_code: 'REQUEST_TOO_LARGE' } },
    { name: 'token id that is not a number', method: 'DELETE', path: '/api/v1/tokens/abc', headers: { Authorization: ADMIN_BASIC }, status: 400 },
    { name: 'revoking a token that does not exist', method: 'DELETE', path: '/api/v1/tokens/999', headers: { Authorization: ADMIN_BASIC }, status: 404 },
  ]);

  it('a rejected request stores nothing', async () => {
    const before = t.app.tokens.list(t.app.users.get('admin')).length;
    await t.request('/api/v1/tokens', { method: 'POST', headers: { ...admin(), 'Content-Type': 'application/json' }, body: '{"name": "half' });
    expect(t.app.tokens.list(t.app.users.get('admin'))).toHaveLength(before);
  });
});

describe('users and projects', () => {
  it('only site admins manage users', async () => {
    const body = JSON.stringify({ username: 'zoe', password: 'zoe-password-1' });
    const headers = { 'Content-Type': 'application/json' };
    expect((await t.request('/api/v1/users', { method: 'POST', headers: { ...member(), ...headers }, body })).status).toBe(403);
    const created = await t.request('/api/v1/users', { method: 'POST', headers: { ...admin(), ...headers }, body });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ user: { username: 'zoe', isAdmin: false } });
    expect((await t.request('/api/v1/users', { method: 'POST', headers: { ...admin(), ...headers }, body })).status).toBe(409);
  });

  it('refuses to demote the last admin', async () => {
    const response = await t.request('/api/v1/users/admin', {
      method: 'PATCH',
      headers: { ...admin(), 'Content-Type': 'application/json' },
      body: JSON.stringify({ isAdmin: false }),
    });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('last active admin');
    expect(t.app.users.get('admin').isAdmin).toBe(true);
  });

  it('a disabled user can no longer sign in or use tokens', async () => {
    const headers = { 'Content-Type': 'application/json' };
    await t.request('/api/v1/users', { method: 'POST', headers: { ...admin(), ...headers }, body: JSON.stringify({ username: 'leo', password: 'leo-password-1' }) });
    const leo = { username: 'leo', password: 'leo-password-1' };
    const created = await t.request('/api/v1/tokens', { method: 'POST', headers: { Authorization: t.basic(leo), ...headers }, body: JSON.stringify({ name: 'ci' }) });
    const { token } = (await created.json()) as { token: string };
    const patch = await t.request('/api/v1/users/leo', { method: 'PATCH', headers: { ...admin(), ...headers }, body: JSON.stringify({ disabled: true }) });
    expect(patch.status).toBe(200);
    expect((await t.request('/api/v1/whoami', { headers: { Authorization: t.basic(leo) } })).status).toBe(401);
    expect((await t.request('/api/v1/whoami', { headers: { Authorization: `Bearer ${token}` } })).status).toBe(401);
  });

  it('project roles: members see their projects, only project admins change membership', async () => {
    const json = { 'Content-Type': 'application/json' };
    expect((await t.request('/api/v1/projects', { method: 'POST', headers: { ...member(), ...json }, body: JSON.stringify({ name: 'vision' }) })).status).toBe(403);
    expect((await t.request('/api/v1/projects', { method: 'POST', headers: { ...admin(), ...json }, body: JSON.stringify({ name: 'Bad Name' }) })).status).toBe(400);
    expect((await t.request('/api/v1/projects', { method: 'POST', headers: { ...admin(), ...json }, body: JSON.stringify({ name: 'vision' }) })).status).toBe(201);
    expect((await t.request('/api/v1/projects', { method: 'POST', headers: { ...admin(), ...json }, body: JSON.stringify({ name: 'vision' }) })).status).toBe(409);
    // Not a member yet: the project does not exist as far as mia can tell.
    expect((await t.request('/api/v1/projects/vision', { headers: member() })).status).toBe(404);
    const add = await t.request('/api/v1/projects/vision/members/mia', { method: 'PUT', headers: { ...admin(), ...json }, body: JSON.stringify({ role: 'viewer' }) });
    expect(add.status).toBe(200);
    const seen = await t.request('/api/v1/projects/vision', { headers: member() });
    expect(await seen.json()).toMatchObject({ project: { name: 'vision', role: 'viewer' } });
    const grab = await t.request('/api/v1/projects/vision/members/mia', { method: 'PUT', headers: { ...member(), ...json }, body: JSON.stringify({ role: 'admin' }) });
    expect(grab.status).toBe(403);
    expect((await t.request('/api/v1/projects/vision/members/mia', { method: 'PUT', headers: { ...admin(), ...json }, body: JSON.stringify({ role: 'owner' }) })).status).toBe(400);
    expect((await t.request('/api/v1/projects/vision/members/ghost', { method: 'PUT', headers: { ...admin(), ...json }, body: JSON.stringify({ role: 'viewer' }) })).status).toBe(404);
    expect((await t.request('/api/v1/projects/vision/members/mia', { method: 'DELETE', headers: admin() })).status).toBe(200);
    expect((await t.request('/api/v1/projects/vision/members/mia', { method: 'DELETE', headers: admin() })).status).toBe(404);
  });

  it('the audit log records who did what, and only admins read it', async () => {
    expect((await t.request('/api/v1/audit', { headers: member() })).status).toBe(403);
    const response = await t.request('/api/v1/audit?limit=500', { headers: admin() });
    const { events } = (await response.json()) as { events: Array<{ action: string; actor: string; target: string }> };
    const actions = events.map((event) => `${event.actor} ${event.action} ${event.target}`);
    expect(actions).toContain('admin project.create vision');
    expect(actions).toContain('admin member.set vision/mia');
    expect(actions).toContain('admin user.create zoe');
    expect((await t.request('/api/v1/audit?limit=0', { headers: admin() })).status).toBe(400);
  });
});
