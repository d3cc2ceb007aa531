import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, MEMBER, createTestApp, type TestApp } from '../helpers/test-app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});

async function createToken(body: Record<string, unknown>, user = MEMBER): Promise<{ token: string; id: number }> {
  const response = await t.request('/api/v1/tokens', {
    method: 'POST',
    headers: { Authorization: t.basic(user), 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(201);
  return (await response.json()) as { token: string; id: number };
}

const whoami = (authorization: string) => t.request('/api/v1/whoami', { headers: { Authorization: authorization } });

describe('API tokens', () => {
  it('are shown once and stored only as a digest', async () => {
    const { token, id } = await createToken({ name: 'laptop' });
    expect(token).toMatch(/^ty_[A-Za-z0-9_-]{40}$/);
    const row = t.app.db.$client.prepare('select * from api_tokens where id = ?').get(id) as Record<string, unknown>;
    expect(JSON.stringify(row)).not.toContain(token);
    const listed = await (await t.request('/api/v1/tokens', { headers: { Authorization: `Bearer ${token}` } })).json();
    expect(JSON.stringify(listed)).not.toContain(token);
    expect(listed).toMatchObject({ tokens: [{ id, name: 'laptop', prefix: token.slice(0, 9), scope: 'write' }] });
  });

  it('authenticate as Bearer and as the Basic password next to the username (the mlflow client)', async () => {
    const { token } = await createToken({ name: 'mlflow' });
    expect(await (await whoami(`Bearer ${token}`)).json()).toMatchObject({ user: { username: 'mia' }, via: 'token' });
    expect((await whoami(t.basic({ username: 'mia', password: token }))).status).toBe(200);
    expect((await whoami(t.basic({ username: 'admin', password: token }))).status).toBe(401);
  });

  it('stop working when revoked, and only their owner revokes them', async () => {
    const { token, id } = await createToken({ name: 'short-lived' });
    const byOther = await t.request(`/api/v1/tokens/${id}`, { method: 'DELETE', headers: { Authorization: t.basic(ADMIN) } });
    expect(byOther.status).toBe(404);
    const revoked = await t.request(`/api/v1/tokens/${id}`, { method: 'DELETE', headers: { Authorization: `Bearer ${token}` } });
    expect(revoked.status).toBe(200);
    expect((await whoami(`Bearer ${token}`)).status).toBe(401);
    const again = await t.request(`/api/v1/tokens/${id}`, { method: 'DELETE', headers: { Authorization: t.basic(MEMBER) } });
    expect(again.status).toBe(404);
  });

  it('stop working when expired', async () => {
    const { token } = await createToken({ name: 'day', expiresIn: '1d' });
    expect((await whoami(`Bearer ${token}`)).status).toBe(200);
    t.clock.advance(86_400_001);
    const response = await whoami(`Bearer ${token}`);
    expect(response.status).toBe(401);
    expect(await response.text()).toContain('expired');
  });

  it('with read scope may read but not write', async () => {
    const { token } = await createToken({ name: 'dashboards', scope: 'read' });
    expect((await whoami(`Bearer ${token}`)).status).toBe(200);
    const write = await t.request('/api/v1/tokens', {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'escalate' }),
    });
    expect(write.status).toBe(403);
    expect(await write.text()).toContain('read-only');
  });

  it('record their last use', async () => {
    const { token, id } = await createToken({ name: 'used' });
    await whoami(`Bearer ${token}`);
    const listed = t.app.tokens.list(t.app.users.get('mia')).find((entry) => entry.id === id);
    expect(listed?.lastUsedAt).toBe(t.clock.now);
  });
});
