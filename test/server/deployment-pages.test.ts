// The deployment pages without an engine or a manager: the test stands in for the manager and the proxy.
import { beforeAll, describe, expect, it } from 'vitest';
import type { UserRecord } from '../../src/auth/user-queries.ts';
import type { DeploymentRecord } from '../../src/serving/deployments.ts';
import { captureCall } from '../../src/serving/body-capture.ts';
import { replicaSubmission } from '../../src/serving/replica-jobs.ts';
import { ADMIN, MEMBER, createTestApp, type TestApp } from '../helpers/test-app.ts';
import { deploy, registerVersion } from '../serving/deployment-fixtures.ts';
import { addUser } from './mlflow/tracking-client.ts';

type User = { username: string; password: string };
type Session = { cookie: string; csrf: string };

let t: TestApp;
const VIEWER: User = { username: 'val', password: 'val-password-1' };
let member: UserRecord;
let editorSession: Session;
let viewerSession: Session;
let churn: DeploymentRecord;
let replicaJobId: number;
let gpuUuid: string;

const page = (path: string, user: User = VIEWER, headers: Record<string, string> = {}) => t.get(path, user, headers);
const rowOf = (text: string, name: string) => new RegExp(`<tr id="deployment-${name}">[\\s\\S]*?</tr>`).exec(text)?.[0] ?? '';
const namesIn = (text: string) => [...text.matchAll(/<tr id="deployment-([a-z0-9-]+)">/g)].map((match) => match[1]);

async function post(path: string, session: Session, { htmx = true, csrf = true, fields = {} }: { htmx?: boolean; csrf?: boolean; fields?: Record<string, string> } = {}) {
  const response = await t.request(path, {
    method: 'POST',
    headers: { Cookie: session.cookie, ...(htmx && { 'HX-Request': 'true' }) },
    body: new URLSearchParams({ ...fields, ...(csrf && { _csrf: session.csrf }) }),
    redirect: 'manual',
  });
  return { status: response.status, text: await response.text(), headers: response.headers };
}

beforeAll(async () => {
  t = await createTestApp();
  await addUser(t, VIEWER.username, 'viewer');
  const admin = t.app.users.get(ADMIN.username);
  member = t.app.users.get(MEMBER.username);
  t.app.projects.create({ name: 'secret' }, { actor: 'test' });
  [editorSession, viewerSession] = await Promise.all([t.signIn(MEMBER), t.signIn(VIEWER)]);
  gpuUuid = (await t.app.gpus.list()).devices[1]!.uuid;
  for (const content of ['one', 'two']) await registerVersion(t.app, admin, 'churn', { 'model.pkl': content });

  churn = await deploy(t.app, member, { name: 'churn', model: 'models:/churn/2', cpus: 1, memory: '1GB', replicas: 2, gpus: 1 });
  // One replica placed on a GPU and answering, as the manager would report it.
  const replica = t.app.jobs.submitReplica(replicaSubmission(churn, { slot: 1, version: 2, modelPath: '/tmp/model' }));
  t.app.jobs.move(replica.id, 'queued', 'starting', 'placed', { gpuUuids: [gpuUuid], attempts: 1 });
  t.app.jobs.move(replica.id, 'starting', 'running', 'started', { startedAt: t.clock.now });
  replicaJobId = replica.id;
  const url = 'http://127.0.0.1:40001';
  t.app.deployments.report(churn.id, { upstreams: [url], replicas: [{ jobId: replica.id, slot: 1, version: 2, ready: true, url }], rollout: null, canary: null });
  t.app.deployments.update(churn.id, { state: 'degraded', reason: '1 of 2 replicas ready' }, { kind: 'state', message: 'degraded: 1 of 2 replicas ready' });
  t.app.deployments.record(churn.id, 'replica', 'replica 2 exited with 137; a new one starts in 1s');
  // Ten calls through the proxy: 8 answered, one 404, one 503.
  for (const ms of [3, 4, 5, 6, 7, 8, 9, 40]) t.app.servingMetrics.record('churn', 200, ms);
  t.app.servingMetrics.record('churn', 404, 2);
  t.app.servingMetrics.record('churn', 503, 1);

  await deploy(t.app, member, { name: 'flip', model: 'models:/churn/1', public: true });
  await deploy(t.app, admin, { name: 'hidden', model: 'models:/churn/1', project: 'secret' });
  await deploy(t.app, member, { name: 'old', model: 'models:/churn/1' });
  t.app.deployments.undeploy({ user: member }, 'old');
});

describe('deployments list', () => {
  it('shows the live deployments the viewer may see, with replicas, traffic and path', async () => {
    const { status, text } = await page('/deployments');
    expect(status).toBe(200);
    expect(text).toContain('class="active">Deployments</a>');
    expect(namesIn(text)).toEqual(['churn', 'flip']);
    const row = rowOf(text, 'churn');
    expect(row).toContain('<a href="/deployments/churn"><strong>churn</strong></a>');
    expect(row).toContain('data-state="degraded"');
    expect(row).toContain('1 of 2 replicas ready');
    expect(row).toContain('models:/churn/2');
    expect(row).toContain('<a href="/models/churn/versions/2">v2</a>');
    expect(row).toContain('<td class="number">1/2</td>');
    expect(row).toContain('0.17/s');
    expect(row).toContain('>5 ms</td>');
    expect(row).toContain('>40 ms</td>');
    expect(row).toContain('/serve/churn');
    expect(rowOf(text, 'flip')).toContain('<td class="number">0/1</td>');
    expect(rowOf(text, 'flip')).toContain('>—</td>');
    expect(text).toContain('hx-get="/deployments" hx-trigger="every 5s"');
  });

  const filters: Array<[string, User, string[]]> = [
    ['ended=1', VIEWER, ['churn', 'flip', 'old']],
    ['project=default', VIEWER, ['churn', 'flip']],
    ['', ADMIN, ['churn', 'flip', 'hidden']],
    ['project=secret', ADMIN, ['hidden']],
    ['project=secret&ended=1', ADMIN, ['hidden']],
  ];
  for (const [query, user, names] of filters) {
    it(`lists ${names.join(', ')} for ${user.username} with "${query}"`, async () => {
      const { status, text } = await page(`/deployments?${query}`, user);
      expect(status, text).toBe(200);
      expect(namesIn(text)).toEqual(names);
    });
  }

  it('keeps the filter in the polling fragment and the form', async () => {
    const { text } = await page('/deployments?ended=1');
    expect(text).toContain('hx-get="/deployments?ended=1"');
    expect(text).toContain('name="ended" value="1" checked');
    expect(rowOf(text, 'old')).toContain('data-state="stopped"');
  });

  it('answers a bad filter with 400 and a project the viewer cannot see with 404', async () => {
    const answers: Array<[string, number, string]> = [
      ['ended=yes', 400, 'ended must be 1'],
      ['project=secret', 404, 'project &quot;secret&quot; does not exist'],
      ['project=nope', 404, 'does not exist'],
    ];
    for (const [query, status, message] of answers) {
      const answer = await page(`/deployments?${query}`);
      expect(answer.status, query).toBe(status);
      expect(answer.text).toContain(message);
    }
  });

  it('answers htmx with the table alone', async () => {
    const { status, text } = await page('/deployments', VIEWER, { 'HX-Request': 'true' });
    expect(status).toBe(200);
    expect(text.startsWith('<div id="deployment-table"')).toBe(true);
  });
});

describe('deployment page', () => {
  it('shows the summary, the replicas with their jobs and GPUs, the timeline and the traffic', async () => {
    const { status, text } = await page('/deployments/churn');
    expect(status).toBe(200);
    const expected = [
      '<a href="/deployments">Deployments</a> / churn',
      'data-state="degraded"',
      '<code>models:/churn/2</code> → <a href="/models/churn/versions/2" class="mono">v2</a>',
      '<th>Previous version</th><td>—</td>',
      '<code>trainyard/python-serve:bookworm</code>',
      '<span class="mono">8080</span>',
      '<code>/ping</code> <span class="muted">· ready within 2m</span>',
      '1 GPU · 1 CPU · 1.0 GB memory',
      '1 of 2',
      'members, with a token or a session',
      `<a href="/jobs/${replicaJobId}">job ${replicaJobId}</a>`,
      `<a href="/gpus#gpu-${gpuUuid}" title="${gpuUuid}">GPU 1</a>`,
      '<span class="badge ok">ready</span>',
      'created by mia from models:/churn/2 (version 2)',
      '<span class="badge">replica</span> replica 2 exited with 137',
      // Traffic: 10 calls, one of them a server error; percentiles over 1, 2, 3 ... 9, 40 ms.
      '<dt>Calls</dt><dd>10</dd>',
      '<dt>Server errors</dt><dd>10%</dd>',
      '<dt>p50</dt><dd>5 ms</dd>',
      '<dt>p90</dt><dd>9 ms</dd>',
      '<dt>p99</dt><dd>40 ms</dd>',
      '<tr data-status="2xx"><td>2xx</td><td class="number">8</td><td class="number">80%</td></tr>',
      '<tr data-status="4xx"><td>4xx</td><td class="number">1</td><td class="number">10%</td></tr>',
      '<tr data-status="5xx"><td>5xx</td><td class="number">1</td><td class="number">10%</td></tr>',
      'Recent problems',
      `curl -H &quot;Authorization: Bearer $TRAINYARD_TOKEN&quot; -H 'Content-Type: application/json'`,
      'http://127.0.0.1:8700/serve/churn/invocations',
      'hx-get="/deployments/churn" hx-trigger="every 5s" hx-swap="outerHTML"',
    ];
    for (const fragment of expected) expect(text).toContain(fragment);
    const buckets = /<table class="latency-buckets">[\s\S]*?<\/table>/.exec(text)![0];
    expect([...buckets.matchAll(/<tr><td class="nowrap">([^<]+)<\/td><td class="number">(\d+)<\/td>/g)].map((match) => `${match[1]}:${match[2]}`)).toEqual([
      '1 ms:1',
      '2.5 ms:2',
      '5 ms:5',
      '10 ms:9',
      '25 ms:9',
      '50 ms:10',
    ]);
    // Newest first: the replica restart above the creation.
    expect([...text.matchAll(/<li data-kind="(\w+)">/g)].map((match) => match[1])).toEqual(['replica', 'state', 'state']);
  });

  it('shows a public deployment with a curl example that needs no token, and no traffic yet', async () => {
    const { text } = await page('/deployments/flip');
    expect(text).toContain('<span class="badge warn">public</span>');
    expect(text).toContain(`curl -H 'Content-Type: application/json'`);
    expect(text).not.toContain('Bearer');
    expect(text).toContain('No calls yet.');
    expect(text).toContain('No replica is queued or running.');
  });

  it('answers htmx with the details alone', async () => {
    const { status, text } = await page('/deployments/churn', VIEWER, { 'HX-Request': 'true' });
    expect(status).toBe(200);
    expect(text.startsWith('<div id="deployment-detail"')).toBe(true);
    expect(text).not.toContain('curl');
  });

  it('shows editors the roll back and undeploy forms with a confirmation, and viewers neither', async () => {
    t.app.deployments.update(churn.id, { previousVersion: 1 });
    const editor = (await page('/deployments/churn', MEMBER)).text;
    expect(editor).toContain('hx-post="/deployments/churn/rollback" hx-target="#deployment-detail" hx-swap="outerHTML" hx-confirm="Roll churn back from version 2 to version 1?');
    expect(editor).toContain('hx-post="/deployments/churn/undeploy" hx-target="#deployment-detail" hx-swap="outerHTML" hx-confirm="Undeploy churn?');
    expect(editor).toContain('<th>Previous version</th><td><a href="/models/churn/versions/1" class="mono">v1</a>');
    const seen = (await page('/deployments/churn')).text;
    expect(seen).not.toContain('<form class="inline"');
    expect(seen).not.toContain('Undeploy');
    // No earlier version: nothing to roll back to.
    const flip = (await page('/deployments/flip', MEMBER)).text;
    expect(flip).toContain('/deployments/flip/undeploy');
    expect(flip).not.toContain('/deployments/flip/rollback');
  });

  it('answers 404 for a deployment the viewer cannot see and for names that name none', async () => {
    for (const name of ['hidden', 'nope', 'NOPE', '%20']) {
      expect((await page(`/deployments/${name}`)).status, name).toBe(404);
    }
    expect((await page('/deployments/hidden', ADMIN)).status).toBe(200);
  });
});

describe("the deployment's tokens", () => {
  const panelOf = (text: string) => /<div class="panel" id="deployment-tokens">[\s\S]*$/.exec(text)?.[0] ?? '';

  it('shows editors a panel to make and revoke them, outside the part that refreshes itself, and viewers none', async () => {
    const editor = (await page('/deployments/churn', MEMBER)).text;
    expect(panelOf(editor)).toContain('hx-post="/deployments/churn/tokens" hx-target="#deployment-tokens" hx-swap="outerHTML"');
    expect(panelOf(editor)).toContain('No tokens yet.');
    expect(editor.indexOf('id="deployment-tokens"')).toBeGreaterThan(editor.indexOf('id="deployment-call"'));
    expect((await page('/deployments/churn', MEMBER, { 'HX-Request': 'true' })).text).not.toContain('deployment-tokens');
    expect((await page('/deployments/churn')).text).not.toContain('deployment-tokens');
  });

  it('makes a token that calls this deployment only, showing its secret once, and revokes it', async () => {
    const made = await post('/deployments/churn/tokens', editorSession, { fields: { name: 'billing', expiresIn: '30d' } });
    expect(made.status, made.text).toBe(200);
    expect(made.text.startsWith('<div class="panel" id="deployment-tokens">')).toBe(true);
    const secret = /<div class="secret" id="new-deployment-token"><strong>New token<\/strong><code>(ty_[^<]+)<\/code>/.exec(made.text)?.[1];
    expect(t.app.tokens.resolve(secret!)).toMatchObject({ user: { username: MEMBER.username }, deployment: { projectId: churn.projectId, name: 'churn' } });
    const id = t.app.tokens.listForDeployment({ projectId: churn.projectId, name: 'churn' })[0]!.id;
    expect(made.text).toContain(`<tr id="deployment-token-${id}">`);
    expect(made.text).toContain('<td>billing</td>');
    // Shown once: the page lists it without the secret.
    expect((await page('/deployments/churn', MEMBER)).text).not.toContain(secret);

    const revoked = await post(`/deployments/churn/tokens/${id}/revoke`, editorSession);
    expect(revoked.status, revoked.text).toBe(200);
    expect(revoked.text).toContain('<span class="badge danger">revoked</span>');
    expect(t.app.tokens.resolve(secret!)).toBeUndefined();
  });

  it('answers a plain form post with the whole page, the new secret on it', async () => {
    const made = await post('/deployments/churn/tokens', editorSession, { htmx: false, fields: { name: 'no-js' } });
    expect(made.status).toBe(200);
    expect(made.text).toContain('<div id="deployment-detail"');
    expect(made.text).toMatch(/<div class="secret" id="new-deployment-token"><strong>New token<\/strong><code>ty_/);
  });

  const refusals: Array<[string, string, () => Session, { csrf?: boolean; fields?: Record<string, string> }, number, string]> = [
    ['a viewer', '/deployments/churn/tokens', () => viewerSession, { fields: { name: 'x' } }, 403, 'editor'],
    ['a post without the CSRF token', '/deployments/churn/tokens', () => editorSession, { csrf: false, fields: { name: 'x' } }, 403, ''],
    ['a token without a name', '/deployments/churn/tokens', () => editorSession, { fields: { name: ' ' } }, 400, 'a token needs a name'],
    ['an expiry that is no duration', '/deployments/churn/tokens', () => editorSession, { fields: { name: 'x', expiresIn: 'soon' } }, 400, 'is not a duration'],
    ['a token id that is no number', '/deployments/churn/tokens/x/revoke', () => editorSession, {}, 400, 'a token id is a whole number, like 3'],
    ['a token of no one', '/deployments/churn/tokens/99999/revoke', () => editorSession, {}, 404, 'has no live token 99999'],
    ['a viewer revoking', '/deployments/churn/tokens/1/revoke', () => viewerSession, {}, 403, 'editor'],
  ];
  for (const [name, path, session, options, status, message] of refusals) {
    it(`refuses ${name} with ${status}`, async () => {
      const answer = await post(path, session(), options);
      expect(answer.status, answer.text).toBe(status);
      expect(answer.text).toContain(message);
    });
  }
});

describe('a canary and sampled calls on the page', () => {
  it('shows the canary with its share, and editors the forms that promote it or roll it back', async () => {
    const url = 'http://127.0.0.1:40002';
    const status = t.app.deployments.status(churn.id);
    t.app.deployments.report(churn.id, { ...status, rollout: 1, canary: { version: 1, weight: 20, upstreams: [url] } });
    const editor = (await page('/deployments/churn', MEMBER)).text;
    expect(editor).toContain('<th>Canary</th><td><a href="/models/churn/versions/1" class="mono">v1</a> takes <strong>20%</strong> of the calls <span class="muted">· 1 replica ready</span>');
    expect(editor).toContain('hx-post="/deployments/churn/promote" hx-target="#deployment-detail" hx-swap="outerHTML" hx-confirm="Send every call of churn to version 1?');
    expect(editor).toContain('>Roll back the canary</button>');
    expect(editor).not.toContain('<th>Rolling out</th>');
    expect((await page('/deployments/churn')).text).not.toContain('/deployments/churn/promote');

    const promoted = await post('/deployments/churn/promote', editorSession);
    expect(promoted.status, promoted.text).toBe(200);
    expect(promoted.text).toContain('promotion of the canary (version 1) asked by mia');
    expect((await post('/deployments/churn/promote', viewerSession)).status).toBe(403);
    t.app.deployments.report(churn.id, status);
    expect((await post('/deployments/churn/promote', editorSession)).text).toContain('has no canary to promote');
  });

  it('lists the latest sampled calls with the start of their bodies', async () => {
    const empty = (await page('/deployments/churn')).text;
    expect(empty).toContain('<h2>Sampled calls <span class="muted">· off</span></h2>');
    expect(empty).toContain('No sampled call yet.');
    const capture = captureCall(8);
    capture.request.add(Buffer.from('{"inputs": [[1, 2]]}'));
    capture.response.add(Buffer.from('{"p": 1}'));
    capture.responseContentType = 'application/json';
    t.app.requestSamples.record({ deploymentId: churn.id, version: 2, method: 'POST', path: '/invocations', status: 200, latencyMs: 4.2, requestContentType: 'application/json', capture });
    t.app.deployments.update(churn.id, { sampleRate: 0.25 });
    const text = (await page('/deployments/churn')).text;
    expect(text).toContain('<h2>Sampled calls <span class="muted">· 25% of calls, up to 64.0 KB per body</span></h2>');
    expect(text).toContain('<td class="nowrap"><code>POST /invocations</code></td>');
    expect(text).toContain('<code class="sample-body">{&quot;inputs</code> <span class="badge warn" title="only the first bytes were kept">truncated, 20 B in all</span>');
    expect(text).toContain('<code class="sample-body">{&quot;p&quot;: 1}</code></td>');
  });
});

describe('rolling back and undeploying', () => {
  it('asks for the previous version back and shows the rollout', async () => {
    const answer = await post('/deployments/churn/rollback', editorSession);
    expect(answer.status, answer.text).toBe(200);
    expect(answer.text.startsWith('<div id="deployment-detail"')).toBe(true);
    expect(answer.text).toContain('<th>Rolling out</th><td><a href="/models/churn/versions/1" class="mono">v1</a>');
    expect(answer.text).toContain('rollback from version 2 to version 1 asked by mia');
    expect(answer.text).not.toContain('/deployments/churn/rollback');
    expect(t.app.deployments.status(churn.id).rollout).toBe(1);
    const again = await post('/deployments/churn/rollback', editorSession);
    expect(again.status).toBe(409);
    expect(again.text).toContain('is rolling out version 1');
    expect(again.headers.get('HX-Retarget')).toBe('#flash');
  });

  const refusals: Array<[string, string, () => Session, { csrf?: boolean }, number, string]> = [
    ['a viewer', '/deployments/flip/undeploy', () => viewerSession, {}, 403, ''],
    ['a post without the CSRF token', '/deployments/flip/undeploy', () => editorSession, { csrf: false }, 403, ''],
    ['a viewer rolling back', '/deployments/churn/rollback', () => viewerSession, {}, 403, ''],
    ['a deployment of a hidden project', '/deployments/hidden/undeploy', () => editorSession, {}, 404, 'no deployment named &quot;hidden&quot;'],
    ['a deployment that has ended', '/deployments/old/undeploy', () => editorSession, {}, 409, 'is not running'],
    ['a rollback with no earlier version', '/deployments/flip/rollback', () => editorSession, {}, 409, 'has served no other version'],
  ];
  for (const [name, path, session, options, status, message] of refusals) {
    it(`refuses ${name} with ${status}`, async () => {
      const answer = await post(path, session(), options);
      expect(answer.status, answer.text).toBe(status);
      expect(answer.text).toContain(message);
      expect(t.app.deployments.get(t.app.users.get(ADMIN.username), 'flip').state).toBe('pending');
      expect(t.app.deployments.get(t.app.users.get(ADMIN.username), 'hidden').state).toBe('pending');
    });
  }

  it('undeploys: the details say stopped, stop polling and offer no forms', async () => {
    const answer = await post('/deployments/flip/undeploy', editorSession);
    expect(answer.status, answer.text).toBe(200);
    expect(answer.text).toContain('data-state="stopped"');
    expect(answer.text).toContain('undeployed by mia');
    expect(answer.text).not.toContain('hx-trigger');
    expect(answer.text).not.toContain('<form');
    expect(t.app.deployments.get(member, 'flip').state).toBe('stopped');
    expect(namesIn((await page('/deployments')).text)).toEqual(['churn']);
  });

  it('sends a plain form post back to the deployment page', async () => {
    const answer = await post('/deployments/churn/undeploy', editorSession, { htmx: false });
    expect(answer.status).toBe(303);
    expect(answer.headers.get('location')).toBe('/deployments/churn');
    expect(t.app.deployments.get(member, 'churn').state).toBe('stopped');
  });
});
