import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, MEMBER } from '../helpers/test-app.ts';
import { call, startServing, startUpstream, type Echo, type ServingHarness } from './serving-fixtures.ts';

const VIEWER = { username: 'vic', password: 'viewer-password-1' };
const by = { actor: 'test' };

let h: ServingHarness;
/** Authorization headers by who sends them. */
const as: Record<string, Record<string, string>> = {};

beforeAll(async () => {
  h = await startServing();
  const { app } = h.t;
  const echo = await startUpstream();
  const secret = app.projects.create({ name: 'secret', description: '' }, by);
  await app.users.create({ ...VIEWER, displayName: 'Vic Viewer' }, by);
  app.projects.setMember(app.projects.get('default'), VIEWER.username, 'viewer', by);
  h.deploy('churn', [echo.url]);
  h.deploy('hidden', [echo.url], { projectId: secret.id });
  h.deploy('open', [echo.url], { projectId: secret.id, public: true });

  const session = await h.t.signIn(MEMBER);
  const runToken = app.tokens.createForRun(app.users.get(MEMBER.username), { runUuid: 'a'.repeat(32), name: 'job 1', expiresAt: h.t.clock.now + 3_600_000 }, by);
  Object.assign(as, {
    anonymous: {},
    admin: { Authorization: h.tokenOf(ADMIN.username) },
    member: { Authorization: h.tokenOf(MEMBER.username) },
    viewer: { Authorization: h.tokenOf(VIEWER.username) },
    'member (read-only token)': { Authorization: `Bearer ${app.tokens.create(app.users.get(MEMBER.username), { name: 'ro', scope: 'read' }, by).secret}` },
    'member (Basic password)': { Authorization: h.t.basic(MEMBER) },
    'member (session)': { Cookie: session.cookie },
    'member (session, CSRF token)': { Cookie: session.cookie, 'X-CSRF-Token': session.csrf },
    "a job's run token": { Authorization: `Bearer ${runToken.secret}` },
    'a wrong token': { Authorization: 'Bearer tyd_not-a-real-token' },
  });
});

const CREDENTIAL_REQUIRED = 'authentication required: send a Bearer token or Basic credentials';

describe('who may call a deployment', () => {
  it.each([
    ['anonymous', 'GET', '/serve/churn/ping', 401, CREDENTIAL_REQUIRED],
    ['anonymous', 'GET', '/serve/nope/ping', 401, CREDENTIAL_REQUIRED],
    ['anonymous', 'POST', '/serve/open/invocations', 200, undefined],
    ['admin', 'GET', '/serve/nope/ping', 404, 'no deployment named "nope"'],
    ['admin', 'POST', '/serve/hidden/invocations', 200, undefined],
    ['member', 'POST', '/serve/churn/invocations', 200, undefined],
    ['member', 'POST', '/serve/hidden/invocations', 404, 'no deployment named "hidden"'],
    ['member', 'POST', '/serve/open/invocations', 200, undefined],
    ['viewer', 'POST', '/serve/churn/invocations', 200, undefined],
    ['member (read-only token)', 'POST', '/serve/churn/invocations', 200, undefined],
    ['member (Basic password)', 'POST', '/serve/churn/invocations', 200, undefined],
    ['member (session)', 'GET', '/serve/churn/ping', 200, undefined],
    ['member (session)', 'POST', '/serve/churn/invocations', 403, 'a call from a dashboard session needs its CSRF token in the X-CSRF-Token header'],
    ['member (session, CSRF token)', 'POST', '/serve/churn/invocations', 200, undefined],
    ["a job's run token", 'POST', '/serve/churn/invocations', 403, `this token is scoped to run ${'a'.repeat(32)}: it cannot call deployments`],
    ['a wrong token', 'POST', '/serve/churn/invocations', 401, 'the token is invalid, expired or revoked'],
    ['a wrong token', 'POST', '/serve/open/invocations', 401, 'the token is invalid, expired or revoked'],
    ['admin', 'GET', '/serve/', 404, 'name a deployment: /serve/<name>/<path>'],
    ['admin', 'GET', '/serve//ping', 404, 'name a deployment: /serve/<name>/<path>'],
    ['admin', 'GET', '/serve/%E0%A4%A/ping', 404, 'name a deployment: /serve/<name>/<path>'],
  ])('%s: %s %s -> %i', async (who, method, path, status, error) => {
    const answer = await call(`${h.url}${path}`, { method, headers: as[who], ...(method === 'POST' && { body: '{}' }) });
    expect(answer.status).toBe(status);
    expect(answer.headers['content-type']).toBe('application/json');
    if (error) expect(answer.json()).toEqual({ error });
    else expect(answer.json<Echo>().body).toBe(method === 'POST' ? '{}' : '');
  });

  it('asks an anonymous caller for a credential the way the API does', async () => {
    const answer = await call(`${h.url}/serve/churn/ping`);
    expect(answer.headers['www-authenticate']).toBe('Bearer realm="trainyard"');
  });

  it("never hands the caller's session or credential to the model", async () => {
    for (const who of ['member (session, CSRF token)', 'member', 'member (Basic password)']) {
      const { headers } = (await call(`${h.url}/serve/churn/ping`, { headers: as[who] })).json<Echo>();
      expect(headers).not.toHaveProperty('authorization');
      expect(headers).not.toHaveProperty('cookie');
    }
  });

  it('counts only the calls that reached the proxy', async () => {
    const before = h.metrics.of('churn').requests;
    await call(`${h.url}/serve/churn/ping`);
    await call(`${h.url}/serve/churn/ping`, { headers: as.member });
    expect(h.metrics.of('churn').requests).toBe(before + 1);
  });
});

describe('the rest of the appliance behind the same listener', () => {
  it('still answers its own routes', async () => {
    expect((await call(`${h.url}/health`)).status).toBe(200);
    expect((await call(`${h.url}/api/v1/tokens`)).status).toBe(401);
    expect((await call(`${h.url}/serve`)).status).toBe(302);
  });
});
