// Deployment tokens: made, listed and revoked by the project's editors; a token calls its deployment through the
// proxy (below Hono, on a real socket) and nothing else. The call to a real replica is in deployment-canary.test.ts.
import { beforeAll, describe, expect, it } from 'vitest';
import type { UserRecord } from '../../src/auth/user-queries.ts';
import { createAsyncInference } from '../../src/serving/async-inference.ts';
import type { DeploymentTokenJson } from '../../src/serving/deployment-tokens.ts';
import { ADMIN, MEMBER, type TestApp } from '../helpers/test-app.ts';
import { addUser } from '../server/mlflow/tracking-client.ts';
import { deploy, registerVersion } from './deployment-fixtures.ts';
import { call, startServing, startUpstream, type Echo, type ServingHarness } from './serving-fixtures.ts';

const VIEWER = { username: 'vic', password: 'vic-password-1' };
const OUTSIDER = { username: 'olga', password: 'olga-password-1' };
type User = { username: string; password: string };

let h: ServingHarness;
let t: TestApp;
let member: UserRecord;
let admin: UserRecord;
let echoUrl: string;

/** An API call as `user` (HTTP Basic) through the in-process router. */
async function api<T = Record<string, any>>(method: string, path: string, user: User = MEMBER, body?: unknown) {
  const response = await t.request(path, {
    method,
    headers: { Authorization: t.basic(user), ...(body !== undefined && { 'Content-Type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as T };
}

async function createToken(deployment: string, name = 'billing service'): Promise<DeploymentTokenJson & { token: string }> {
  const { status, json } = await api<DeploymentTokenJson & { token: string }>('POST', `/api/v1/deployments/${deployment}/tokens`, MEMBER, { name });
  expect(status, JSON.stringify(json)).toBe(201);
  return json;
}

/** A call through the proxy on the real socket with a Bearer token. */
const serve = (path: string, secret: string, method = 'POST') =>
  call(`${h.url}${path}`, { method, headers: { Authorization: `Bearer ${secret}`, 'Content-Type': 'application/json' }, ...(method === 'POST' && { body: '{"inputs": [[1, 2]]}' }) });

beforeAll(async () => {
  h = await startServing({ asyncInference: (app, target) => createAsyncInference({ db: app.db, now: Date.now, log: app.log, target }) });
  t = h.t;
  const { app } = t;
  await addUser(t, VIEWER.username, 'viewer');
  await addUser(t, OUTSIDER.username, undefined);
  app.projects.create({ name: 'secret' }, { actor: 'test' });
  member = app.users.get(MEMBER.username);
  admin = app.users.get(ADMIN.username);
  await registerVersion(app, admin, 'churn', { 'model.pkl': 'one' });
  echoUrl = (await startUpstream()).url;
  // No deployment manager runs: the proxy's targets are the harness's, named as the app's deployments.
  for (const name of ['churn', 'other']) h.deploy(name, [echoUrl], { id: (await deploy(app, member, { name, model: 'models:/churn/1' })).id });
});

describe('POST/GET/DELETE /api/v1/deployments/:name/tokens', () => {
  it("an editor makes a token, sees its secret once, and the deployment's editors list it without the secret", async () => {
    const created = await createToken('churn', 'lister');
    expect(created).toEqual({
      id: expect.any(Number),
      name: 'lister',
      prefix: created.token.slice(0, 9),
      createdBy: MEMBER.username,
      createdAt: t.clock.now,
      expiresAt: null,
      lastUsedAt: null,
      revokedAt: null,
      token: expect.stringMatching(/^ty_[A-Za-z0-9_-]{40}$/),
    });
    const listed = await api<{ tokens: DeploymentTokenJson[] }>('GET', '/api/v1/deployments/churn/tokens', ADMIN);
    expect(listed.status).toBe(200);
    expect(listed.json.tokens[0]).toEqual({ ...created, token: undefined });
    expect(JSON.stringify(listed.json)).not.toContain(created.token);
    expect((await api<{ tokens: unknown[] }>('GET', '/api/v1/deployments/other/tokens')).json.tokens).toEqual([]);
    // The maker's own token list shows it, bound to the deployment.
    const own = await api<{ tokens: Array<{ id: number; deployment: string | null }> }>('GET', '/api/v1/tokens');
    expect(own.json.tokens.find(({ id }) => id === created.id)).toMatchObject({ deployment: 'churn', runUuid: null });
    // Settings names what it reaches, not its write scope, which would read as a token that can do everything.
    const settings = await t.get('/settings/tokens', MEMBER);
    expect(settings.text).toMatch(/<td>lister<\/td>\s*<td><code>[^<]+<\/code><\/td>\s*<td>deployment churn<\/td>/);
    const audit = app().audit.list({ limit: 5 }).find((entry) => entry.action === 'token.create');
    expect(audit).toMatchObject({ actor: MEMBER.username, detail: expect.objectContaining({ id: created.id, deployment: 'churn' }) });
  });

  it('gives a token an expiry when asked', async () => {
    const { status, json } = await api('POST', '/api/v1/deployments/churn/tokens', MEMBER, { name: 'short', expiresIn: '30d' });
    expect(status).toBe(201);
    expect(json.expiresAt).toBe(t.clock.now + 30 * 24 * 3_600_000);
  });

  it.each([
    ['no name', 'POST', '/api/v1/deployments/churn/tokens', MEMBER, {}, 400, /^name: /],
    ['an empty name', 'POST', '/api/v1/deployments/churn/tokens', MEMBER, { name: '  ' }, 400, /^name: a token needs a name$/],
    ['a scope (a deployment token only calls)', 'POST', '/api/v1/deployments/churn/tokens', MEMBER, { name: 'x', scope: 'read' }, 400, /^unknown field scope$/],
    ['an expiry that is not a duration', 'POST', '/api/v1/deployments/churn/tokens', MEMBER, { name: 'x', expiresIn: 'soon' }, 400, /^expiresIn "soon" is not a duration like 12h, 30d or 2w$/],
    ['a viewer', 'POST', '/api/v1/deployments/churn/tokens', VIEWER, { name: 'x' }, 403, /editor/],
    ['a viewer listing', 'GET', '/api/v1/deployments/churn/tokens', VIEWER, undefined, 403, /editor/],
    ['someone outside the project', 'POST', '/api/v1/deployments/churn/tokens', OUTSIDER, { name: 'x' }, 404, /^no deployment named "churn"$/],
    ['a deployment that does not exist', 'GET', '/api/v1/deployments/nope/tokens', MEMBER, undefined, 404, /^no deployment named "nope"$/],
    ['an id that is not a number', 'DELETE', '/api/v1/deployments/churn/tokens/abc', MEMBER, undefined, 400, /^a token id is a whole number, like 3$/],
    ['an id no token has', 'DELETE', '/api/v1/deployments/churn/tokens/99999', MEMBER, undefined, 404, /^deployment "churn" has no live token 99999$/],
  ] as const)('refuses %s', async (_name, method, path, user, body, status, message) => {
    const answer = await api(method, path, user, body);
    expect(answer.status, JSON.stringify(answer.json)).toBe(status);
    expect(answer.json.message).toMatch(message);
  });

  it("refuses a body that is not JSON, and revoking another deployment's token", async () => {
    const response = await t.request('/api/v1/deployments/churn/tokens', { method: 'POST', headers: { Authorization: t.basic(MEMBER), 'Content-Type': 'text/plain' }, body: 'name=x' });
    expect(response.status).toBe(415);
    const { id } = await createToken('other', 'elsewhere');
    expect(await api('DELETE', `/api/v1/deployments/churn/tokens/${id}`)).toMatchObject({ status: 404, json: { message: `deployment "churn" has no live token ${id}` } });
  });
});

describe('what a deployment token may call', () => {
  let secret: string;
  beforeAll(async () => {
    secret = (await createToken('churn')).token;
  });

  it('calls its deployment through the proxy, as Bearer or as the Basic password of its maker', async () => {
    const answer = await serve('/serve/churn/invocations?format=json', secret);
    expect(answer.status, answer.text).toBe(200);
    expect(answer.json<Echo>()).toMatchObject({ method: 'POST', url: '/invocations?format=json', body: '{"inputs": [[1, 2]]}' });
    expect(answer.json<Echo>().headers).not.toHaveProperty('authorization');
    expect((await serve('/serve/churn/ping', secret, 'GET')).status).toBe(200);
    const basic = await call(`${h.url}/serve/churn/ping`, { headers: { Authorization: `Basic ${Buffer.from(`${MEMBER.username}:${secret}`).toString('base64')}` } });
    expect(basic.status).toBe(200);
  });

  it('queues asynchronous calls to its deployment and reads their results', async () => {
    const submitted = await serve('/serve/churn/async/invocations', secret);
    expect(submitted.status, submitted.text).toBe(202);
    const { id } = submitted.json<{ id: string }>();
    expect((await serve(`/serve/churn/async/${id}`, secret, 'GET')).json()).toMatchObject({ id, status: 'queued' });
    expect(await serve('/serve/other/async/invocations', secret)).toMatchObject({ status: 403 });
  });

  const refusal = (what: string) => `this token is scoped to deployment "churn": ${what}`;
  it.each([
    ['another deployment', 'POST', '/serve/other/invocations', 403, refusal('it cannot call deployment "other"')],
    ['a deployment that does not exist', 'POST', '/serve/nope/invocations', 403, refusal('it cannot call deployment "nope"')],
    ['the API', 'GET', '/api/v1/deployments', 403, refusal('it may only call /serve/churn/...')],
    ['its own deployment through the API', 'GET', '/api/v1/deployments/churn', 403, refusal('it may only call /serve/churn/...')],
    ['the API that makes tokens', 'POST', '/api/v1/deployments/churn/tokens', 403, refusal('it may only call /serve/churn/...')],
    ['the MLflow API', 'GET', '/api/2.0/mlflow/experiments/search', 403, refusal('it may only call /serve/churn/...')],
    ['the metrics', 'GET', '/metrics', 403, refusal('it may only call /serve/churn/...')],
  ])('is refused on %s: %s %s', async (_name, method, path, status, message) => {
    const answer = await serve(path, secret, method);
    expect(answer.status, answer.text).toBe(status);
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    expect(answer.json<Record<string, string>>().error ?? answer.json<Record<string, string>>().message).toBe(message);
  });

  it('is refused on the dashboard', async () => {
    for (const path of ['/', '/deployments/churn', '/settings/tokens']) {
      const answer = await serve(path, secret, 'GET');
      expect(answer.status, path).toBe(403);
      expect(answer.text).toContain('this token is scoped to deployment');
    }
  });

  it('keeps calling the name when it is deployed again in its project, never once another project holds it', async () => {
    const { token } = await createToken('other', 'moves');
    app().deployments.undeploy({ user: member }, 'other');
    const again = await deploy(app(), member, { name: 'other', model: 'models:/churn/1' });
    h.deploy('other', [echoUrl], { id: again.id });
    expect((await serve('/serve/other/ping', token, 'GET')).status).toBe(200);

    app().deployments.undeploy({ user: member }, 'other');
    const elsewhere = await deploy(app(), admin, { name: 'other', model: 'models:/churn/1', project: 'secret' });
    h.deploy('other', [echoUrl], { id: elsewhere.id, projectId: elsewhere.projectId });
    const refused = await serve('/serve/other/ping', token, 'GET');
    expect(refused.status).toBe(403);
    expect(refused.json()).toEqual({ error: 'this token is scoped to deployment "other": the deployment named "other" now belongs to another project' });
  });

  it('acts as its maker: refused once they leave the project', async () => {
    const leaver = await addUser(t, 'lea', 'editor');
    const { secret: token } = app().tokens.createForDeployment(app().users.get(leaver.username), { projectId: app().projects.get('default').id, name: 'churn' }, { name: 'lea' }, { actor: 'test' });
    expect((await serve('/serve/churn/ping', token, 'GET')).status).toBe(200);
    app().projects.removeMember(app().projects.get('default'), leaver.username, { actor: 'test' });
    expect(await serve('/serve/churn/ping', token, 'GET')).toMatchObject({ status: 404, text: '{"error":"no deployment named \\"churn\\""}' });
  });

  it('stops working once an editor revokes it (401), and a revoked token cannot be revoked again', async () => {
    const { id, token } = await createToken('churn', 'to revoke');
    expect((await serve('/serve/churn/ping', token, 'GET')).status).toBe(200);
    const revoked = await api<{ token: DeploymentTokenJson }>('DELETE', `/api/v1/deployments/churn/tokens/${id}`, ADMIN);
    expect(revoked).toMatchObject({ status: 200, json: { token: { id, name: 'to revoke', revokedAt: t.clock.now } } });
    const refused = await serve('/serve/churn/ping', token, 'GET');
    expect(refused.status).toBe(401);
    expect(refused.json()).toEqual({ error: 'the token is invalid, expired or revoked' });
    expect((await api('DELETE', `/api/v1/deployments/churn/tokens/${id}`)).status).toBe(404);
    const listed = (await api<{ tokens: DeploymentTokenJson[] }>('GET', '/api/v1/deployments/churn/tokens')).json.tokens;
    expect(listed.find((token) => token.id === id)?.revokedAt).toBe(t.clock.now);
  });

  it('is made only for a deployment that serves', async () => {
    await deploy(app(), member, { name: 'gone', model: 'models:/churn/1' });
    app().deployments.undeploy({ user: member }, 'gone');
    expect(await api('POST', '/api/v1/deployments/gone/tokens', MEMBER, { name: 'x' })).toMatchObject({
      status: 409,
      json: { message: 'deployment "gone" is not running: it was stopped' },
    });
    expect(await api('GET', '/api/v1/deployments/gone/tokens')).toMatchObject({ status: 200, json: { tokens: [] } });
  });
});

const app = () => t.app;
