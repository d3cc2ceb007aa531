import { beforeAll, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config.ts';
import { ADMIN, MEMBER, createTestApp, type TestApp } from '../helpers/test-app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ loginMaxFailures: 3, loginWindowMs: 60_000, sessionTtlMs: 3_600_000 });
});

const form = (fields: Record<string, string>) => new URLSearchParams(fields);

describe('sign-in', () => {
  it('sets an HttpOnly, SameSite session cookie and redirects to a same-site next page', async () => {
    const response = await t.request('/login', { method: 'POST', body: form({ ...ADMIN, next: '/projects' }) });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/projects');
    expect(response.headers.get('set-cookie')).toMatch(/trainyard_session=.+; Max-Age=3600; Path=\/; HttpOnly; SameSite=Lax/);
  });

  it.each([
    ['//evil.example/x', '/'],
    ['https://evil.example', '/'],
    ['/\\evil.example', '/'],
    ['/admin/audit?before=9', '/admin/audit?before=9'],
  ])('next=%s goes to %s', async (next, expected) => {
    const response = await t.request('/login', { method: 'POST', body: form({ ...ADMIN, next }) });
    expect(response.headers.get('location')).toBe(expected);
  });

  it('a wrong password re-renders the form with a message and no cookie', async () => {
    const response = await t.request('/login', { method: 'POST', body: form({ username: 'admin', password: 'nope-nope' }) });
    expect(response.status).toBe(401);
    expect(response.headers.get('set-cookie')).toBeNull();
    expect(await response.text()).toContain('wrong username or password');
  });

  it('refuses a login form posted from another site', async () => {
    const response = await t.request('/login', { method: 'POST', headers: { Origin: 'https://evil.example' }, body: form(ADMIN) });
    expect(response.status).toBe(403);
  });

  it('rate-limits repeated failures for a username, also through Basic auth', async () => {
    await t.app.users.create({ username: 'target', password: 'target-password' }, { actor: 'test' });
    for (let attempt = 0; attempt < 3; attempt++) {
      await t.request('/api/v1/whoami', { headers: { Authorization: t.basic({ username: 'target', password: `guess-${attempt}` }) } });
    }
    const blocked = await t.request('/login', { method: 'POST', body: form({ username: 'target', password: 'target-password' }) });
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await blocked.text()).toContain('too many failed sign-in attempts');
    t.clock.advance(61_000);
    const after = await t.request('/login', { method: 'POST', body: form({ username: 'target', password: 'target-password' }) });
    expect(after.status).toBe(303);
  });

  it('records logins and failures in the audit log', () => {
    const actions = t.app.audit.list({ limit: 500 }).map((event) => `${event.actor} ${event.action}`);
    expect(actions).toContain('admin login.success');
    expect(actions).toContain('admin login.failure');
  });
});

describe('session pages', () => {
  it.each(['/', '/settings/tokens', '/projects', '/projects/default', '/admin/users', '/admin/audit'])('%s renders for an admin', async (path) => {
    const { cookie } = await t.signIn(ADMIN);
    const response = await t.request(path, { headers: { Cookie: cookie } });
    expect(response.status).toBe(200);
    const page = await response.text();
    expect(page).toContain('<nav class="nav">');
    expect(page).toMatch(/\/static\/[0-9a-f]{12}\/htmx\.min\.js/);
  });

  it('admin pages are forbidden to members', async () => {
    const { cookie } = await t.signIn(MEMBER);
    for (const path of ['/admin/users', '/admin/audit']) {
      expect((await t.request(path, { headers: { Cookie: cookie } })).status).toBe(403);
    }
  });

  it('expires after its lifetime', async () => {
    const { cookie } = await t.signIn(MEMBER);
    expect((await t.request('/', { headers: { Cookie: cookie } })).status).toBe(200);
    t.clock.advance(3_600_001);
    const response = await t.request('/', { headers: { Cookie: cookie } });
    expect(response.status).toBe(302);
  });

  it('sign-out ends the session', async () => {
    const { cookie, csrf } = await t.signIn(MEMBER);
    const out = await t.request('/logout', { method: 'POST', headers: { Cookie: cookie }, body: form({ _csrf: csrf }) });
    expect(out.status).toBe(303);
    expect((await t.request('/', { headers: { Cookie: cookie } })).status).toBe(302);
  });
});

describe('CSRF protection', () => {
  it('refuses a session write without the token, with a wrong one, and accepts header or field', async () => {
    const { cookie, csrf } = await t.signIn(MEMBER);
    const post = (headers: Record<string, string>, fields: Record<string, string>) =>
      t.request('/settings/tokens', { method: 'POST', headers: { Cookie: cookie, ...headers }, body: form(fields) });
    const before = t.app.tokens.list(t.app.users.get(MEMBER.username)).length;

    const missing = await post({}, { name: 'a' });
    expect(missing.status).toBe(403);
    expect(await missing.text()).toContain('security token');
    expect((await post({ 'X-CSRF-Token': 'forged' }, { name: 'b' })).status).toBe(403);
    expect(t.app.tokens.list(t.app.users.get(MEMBER.username))).toHaveLength(before);

    expect((await post({}, { name: 'c', _csrf: csrf })).status).toBe(200);
    const htmx = await post({ 'X-CSRF-Token': csrf, 'HX-Request': 'true' }, { name: 'd' });
    expect(htmx.status).toBe(200);
    expect(await htmx.text()).toMatch(/^<div id="token-list">[\s\S]*<code>ty_/);
  });

  it('an htmx error lands in the flash area', async () => {
    const { cookie, csrf } = await t.signIn(MEMBER);
    const response = await t.request('/settings/tokens', {
      method: 'POST',
      headers: { Cookie: cookie, 'X-CSRF-Token': csrf, 'HX-Request': 'true' },
      body: form({ name: '' }),
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('HX-Retarget')).toBe('#flash');
    expect(await response.text()).toContain('class="flash error"');
  });
});

describe('dashboard forms', () => {
  it('admins add users, change roles and manage project members through the pages', async () => {
    const { cookie, csrf } = await t.signIn(ADMIN);
    const post = (path: string, fields: Record<string, string>) =>
      t.request(path, { method: 'POST', headers: { Cookie: cookie, 'X-CSRF-Token': csrf, 'HX-Request': 'true' }, body: form(fields) });

    const added = await post('/admin/users', { username: 'ivy', password: 'ivy-password-1', displayName: 'Ivy', isAdmin: 'false' });
    expect(await added.text()).toContain('<strong>ivy</strong>');
    expect((await post('/admin/users', { username: 'ivy', password: 'ivy-password-1' })).status).toBe(409);
    expect((await post('/admin/users', { username: 'x', password: 'short' })).status).toBe(400);
    await post('/admin/users/ivy', { isAdmin: 'true' });
    expect(t.app.users.get('ivy').isAdmin).toBe(true);
    await post('/admin/users/password', { username: 'ivy', password: 'ivy-password-2' });
    expect(await t.app.users.authenticate('ivy', 'ivy-password-2')).toBeDefined();

    expect((await post('/projects', { name: 'nlp', description: 'Language' })).status).toBe(200);
    const members = await post('/projects/nlp/members', { username: 'mia', role: 'viewer' });
    expect(await members.text()).toContain('<strong>mia</strong>');
    await post('/projects/nlp/members/mia', { role: 'editor' });
    expect(t.app.projects.roleOf(t.app.users.get('mia'), t.app.projects.get('nlp'))).toBe('editor');
    expect((await post('/projects/nlp/members/mia', { role: 'owner' })).status).toBe(400);
    await post('/projects/nlp/members/mia/remove', {});
    expect(t.app.projects.roleOf(t.app.users.get('mia'), t.app.projects.get('nlp'))).toBeUndefined();
  });
});

describe('session cookie behind TLS', () => {
  const cases: Array<[ConfigInput, Record<string, string>, boolean]> = [
    [{ publicUrl: 'https://yard.example.com' }, {}, true],
    [{ trustProxy: true }, { 'X-Forwarded-Proto': 'https' }, true],
    [{ trustProxy: false }, { 'X-Forwarded-Proto': 'https' }, false],
    [{ secureCookies: 'always' }, {}, true],
  ];
  const apps: TestApp[] = [];
  beforeAll(async () => {
    for (const [config] of cases) apps.push(await createTestApp(config));
  });

  it.each(cases.map((entry, index) => [...entry, index] as const))(
    'with %j and headers %j the cookie is Secure: %s',
    async (_config, headers, secure, index) => {
      const response = await apps[index]!.request('/login', { method: 'POST', headers, body: form(ADMIN) });
      expect(response.headers.get('set-cookie')?.includes('; Secure')).toBe(secure);
    },
  );
});
