import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createAsyncInference, type AsyncInference } from '../../src/serving/async-inference.ts';
import { findAsyncRequest, insertAsyncRequest } from '../../src/serving/async-request-queries.ts';
import type { ServingTarget } from '../../src/serving/serving-target.ts';
import { ADMIN, MEMBER, type TestApp } from '../helpers/test-app.ts';
import { call, refusingUrl, startServing, startUpstream, type Answer, type Echo, type ServingHarness } from './serving-fixtures.ts';

const VIEWER = { username: 'vic', password: 'viewer-password-1' };
const DAY_MS = 24 * 60 * 60_000;
const MAX_BODY = 1024;
const MAX_ATTEMPTS = 3;
const by = { actor: 'test' };

let t: TestApp;
let url: string;
let queue: AsyncInference;
let targets: Map<string, ServingTarget>;
let deploy: ServingHarness['deploy'];
/** Added to the wall clock the queue reads, to age results. */
const clock = { skewMs: 0 };
const as: Record<string, Record<string, string>> = {};

beforeAll(async () => {
  const harness = await startServing({
    asyncInference: (app, target) =>
      (queue = createAsyncInference({
        db: app.db,
        now: () => Date.now() + clock.skewMs,
        log: app.log,
        target,
        options: { maxBodyBytes: MAX_BODY, callsPerReplica: 2, maxAttempts: MAX_ATTEMPTS, retryDelayMs: 20, pollMs: 20 },
      })),
  });
  ({ t, url, targets, deploy } = harness);
  const { app } = t;
  await queue.start();

  await app.users.create({ ...VIEWER, displayName: 'Vic Viewer' }, by);
  app.projects.setMember(app.projects.get('default'), VIEWER.username, 'viewer', by);
  const runToken = app.tokens.createForRun(app.users.get(MEMBER.username), { runUuid: 'a'.repeat(32), name: 'job 1', expiresAt: t.clock.now + 3_600_000 }, by);
  Object.assign(as, {
    anonymous: {},
    admin: { Authorization: harness.tokenOf(ADMIN.username) },
    member: { Authorization: harness.tokenOf(MEMBER.username) },
    viewer: { Authorization: harness.tokenOf(VIEWER.username) },
    "a job's run token": { Authorization: `Bearer ${runToken.secret}` },
  });
});

afterAll(() => queue.stop());

function submit(name: string, path = '/invocations', body = '{"inputs": [1]}', who = 'member'): Promise<Answer> {
  return call(`${url}/serve/${name}/async${path}`, { method: 'POST', headers: { ...as[who], 'Content-Type': 'application/json' }, body });
}

async function submitted(name: string, path?: string, body?: string): Promise<string> {
  const answer = await submit(name, path, body);
  expect(answer.status, answer.text).toBe(202);
  return answer.json<{ id: string }>().id;
}

const result = (name: string, id: string, who = 'member') => call(`${url}/serve/${name}/async/${id}`, { headers: as[who] });

/** The result once the call has finished: the stored response, or its failed state. */
async function finished(name: string, id: string): Promise<Answer> {
  return vi.waitFor(
    async () => {
      const answer = await result(name, id);
      if (answer.headers['x-trainyard-async-status'] === undefined && answer.json().status !== 'failed') throw new Error(`still ${answer.text}`);
      return answer;
    },
    { timeout: 5_000, interval: 20 },
  );
}

/** An upstream that holds every call until the test lets it go; `held` lists the bodies of the calls it holds. */
async function startGate() {
  const held: Array<{ body: string; release: () => void }> = [];
  const upstream = await startUpstream((incoming: IncomingMessage, outgoing: ServerResponse) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const entry = { body: Buffer.concat(chunks).toString(), release: () => outgoing.end(entry.body) };
      held.push(entry);
      outgoing.on('close', () => {
        if (held.includes(entry)) held.splice(held.indexOf(entry), 1);
      });
    });
  });
  const releaseFirst = () => held.shift()!.release();
  const heldBodies = () => held.map(({ body }) => body).sort();
  return { upstream, held, releaseFirst, heldBodies };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 100));

describe('an asynchronous call', () => {
  it('is taken at once and its result is the response the replica gave', async () => {
    const echo = await startUpstream();
    deploy('churn', [echo.url]);
    const answer = await submit('churn', '/invocations?format=json');
    expect(answer.status).toBe(202);
    const { id, status, result: where } = answer.json<{ id: string; status: string; result: string }>();
    expect(id).toMatch(/^[\w-]{24}$/);
    expect(status).toBe('queued');
    expect(where).toBe(`/serve/churn/async/${id}`);
    expect(answer.headers.location).toBe(where);

    const done = await finished('churn', id);
    expect(done.status).toBe(200);
    expect(done.headers['x-trainyard-async-status']).toBe('succeeded');
    expect(done.headers['content-type']).toBe('application/json');
    const echoed = done.json<Echo>();
    expect(echoed).toMatchObject({ method: 'POST', url: '/invocations?format=json', body: '{"inputs": [1]}' });
    expect(echoed.headers['content-type']).toBe('application/json');
  });

  it("keeps the replica's own status and content type", async () => {
    const refusing = await startUpstream((_incoming, outgoing) => {
      outgoing.writeHead(422, { 'Content-Type': 'text/plain' });
      outgoing.end('bad columns');
    });
    deploy('picky', [refusing.url]);
    const done = await finished('picky', await submitted('picky'));
    expect([done.status, done.headers['content-type'], done.text, done.headers['x-trainyard-async-status']]).toEqual([422, 'text/plain', 'bad columns', 'succeeded']);
  });

  it('reports its state while it waits for a replica', async () => {
    deploy('cold', []);
    const id = await submitted('cold');
    await settle();
    const waiting = await result('cold', id);
    expect(waiting.status).toBe(200);
    expect(waiting.headers['x-trainyard-async-status']).toBeUndefined();
    expect(waiting.json()).toMatchObject({ id, status: 'queued', deployment: 'cold', path: '/invocations', attempts: 0, error: null, startedAt: null });

    const echo = await startUpstream();
    deploy('cold', [echo.url]);
    expect((await finished('cold', id)).json<Echo>().body).toBe('{"inputs": [1]}');
  });
});

describe('the queue', () => {
  it('sends calls oldest first, at most callsPerReplica at once per replica', async () => {
    const gate = await startGate();
    deploy('fifo', [gate.upstream.url]);
    const ids: string[] = [];
    for (let index = 0; index < 5; index++) ids.push(await submitted('fifo', '/invocations', `call ${index}`));

    await vi.waitFor(() => expect(gate.heldBodies()).toEqual(['call 0', 'call 1']));
    for (const next of [2, 3, 4]) {
      await settle();
      expect(gate.held).toHaveLength(2);
      gate.releaseFirst();
      await vi.waitFor(() => expect(gate.heldBodies()).toContain(`call ${next}`));
    }
    while (gate.held.length > 0) gate.releaseFirst();
    for (const [index, id] of ids.entries()) expect((await finished('fifo', id)).text).toBe(`call ${index}`);
  });

  it('lets a deployment with more replicas take more calls at once', async () => {
    const [first, second] = [await startGate(), await startGate()];
    deploy('pair', [first.upstream.url, second.upstream.url]);
    const ids = await Promise.all(Array.from({ length: 6 }, (_, index) => submitted('pair', '/invocations', `call ${index}`)));
    await vi.waitFor(() => expect(first.held.length + second.held.length).toBe(4));
    await settle();
    expect([first.held.length, second.held.length]).toEqual([2, 2]);
    await vi.waitFor(() => {
      for (const gate of [first, second]) while (gate.held.length > 0) gate.releaseFirst();
      expect(first.upstream.calls + second.upstream.calls).toBe(6);
    });
    for (const gate of [first, second]) while (gate.held.length > 0) gate.releaseFirst();
    for (const id of ids) expect((await finished('pair', id)).status).toBe(200);
  });
});

describe('a replica that cannot take the call', () => {
  it.each([
    ['refuses connections', async () => refusingUrl(), 'the replica refused the connection (3 attempts)', null],
    [
      'answers 503',
      async () =>
        (
          await startUpstream((_incoming, outgoing) => {
            outgoing.writeHead(503, { 'Content-Type': 'text/plain' });
            outgoing.end('loading');
          })
        ).url,
      'the replica answered 503 (3 attempts)',
      503,
    ],
  ])('%s: the call is tried 3 times, then fails with the reason', async (_case, upstreamUrl, error, responseStatus) => {
    const name = `down-${responseStatus ?? 'refused'}`;
    deploy(name, [await upstreamUrl()]);
    const id = await submitted(name);
    const done = await finished(name, id);
    expect(done.status).toBe(200);
    expect(done.json()).toMatchObject({ id, status: 'failed', attempts: MAX_ATTEMPTS, error, responseStatus });
  });

  it('is tried again, and the call succeeds once the replica answers', async () => {
    let calls = 0;
    const flaky = await startUpstream((_incoming, outgoing) => {
      outgoing.writeHead(++calls === 1 ? 502 : 200, { 'Content-Type': 'text/plain' });
      outgoing.end(`answer ${calls}`);
    });
    deploy('flaky', [flaky.url]);
    const id = await submitted('flaky');
    expect((await finished('flaky', id)).text).toBe('answer 2');
    expect(findAsyncRequest(t.app.db, id)).toMatchObject({ state: 'succeeded', attempts: 2 });
  });

  it('fails when its deployment no longer exists', async () => {
    deploy('gone', []);
    const id = await submitted('gone');
    targets.delete('gone');
    expect((await finished('gone', id)).json()).toMatchObject({ status: 'failed', error: 'deployment "gone" no longer exists' });
  });
});

describe('the request body', () => {
  it.each([
    ['at the limit', 'x'.repeat(MAX_BODY), {}, 202],
    ['over the limit', 'x'.repeat(MAX_BODY + 1), {}, 413],
    ['over the limit, sent in chunks', 'x'.repeat(MAX_BODY + 1), { 'Transfer-Encoding': 'chunked' }, 413],
  ])('%s -> %i', async (_case, body, headers, status) => {
    deploy('sized', []);
    const answer = await call(`${url}/serve/sized/async/invocations`, { method: 'POST', headers: { ...as.member, 'Content-Type': 'text/plain', ...headers }, body });
    expect(answer.status).toBe(status);
    if (status === 413) expect(answer.json()).toEqual({ error: `the request body is larger than the ${MAX_BODY} bytes an asynchronous call may carry` });
  });
});

describe('who may queue a call and read its result', () => {
  let mine: string;

  beforeAll(async () => {
    const echo = await startUpstream();
    const secret = t.app.projects.create({ name: 'secret', description: '' }, by);
    deploy('shared', [echo.url]);
    deploy('hidden', [echo.url], { projectId: secret.id });
    deploy('open', [echo.url], { projectId: secret.id, public: true });
    mine = await submitted('shared');
    await finished('shared', mine);
  });

  it.each([
    ['anonymous', 'POST', 'shared', 401, 'authentication required: send a Bearer token or Basic credentials'],
    ['anonymous', 'POST', 'open', 401, 'authentication required: send a Bearer token or Basic credentials'],
    ['member', 'POST', 'hidden', 404, 'no deployment named "hidden"'],
    ['member', 'POST', 'nope', 404, 'no deployment named "nope"'],
    ["a job's run token", 'POST', 'shared', 403, `this token is scoped to run ${'a'.repeat(32)}: it cannot call deployments`],
    ['viewer', 'POST', 'shared', 202, undefined],
    ['admin', 'POST', 'hidden', 202, undefined],
    ['member', 'POST', 'open', 202, undefined],
  ])('%s: %s /serve/%s/async/... -> %i', async (who, _method, name, status, error) => {
    const answer = await submit(name, '/invocations', '{}', who);
    expect(answer.status).toBe(status);
    if (error) expect(answer.json()).toEqual({ error });
  });

  it.each([
    ['member', 200],
    ['admin', 200],
    ['viewer', 404],
    ['anonymous', 401],
  ])("%s reads the member's result -> %i", async (who, status) => {
    const answer = await result('shared', mine, who);
    expect(answer.status).toBe(status);
    if (status === 404) expect(answer.json()).toEqual({ error: `deployment "shared" has no asynchronous call "${mine}"` });
  });

  it('finds no result under another deployment or an unknown id', async () => {
    expect((await result('hidden', mine)).status).toBe(404);
    expect((await result('shared', 'no-such-id')).json()).toEqual({ error: 'deployment "shared" has no asynchronous call "no-such-id"' });
  });

  it('lets a member of no project read what they queued on a public deployment', async () => {
    const id = await submitted('open');
    expect((await finished('open', id)).headers['x-trainyard-async-status']).toBe('succeeded');
  });
});

describe('removing a call', () => {
  it.each([
    ['a queued call is cancelled', 'cold-cancel', 'cancelled'],
    ['a finished result is deleted', 'done-delete', 'deleted'],
  ])('%s', async (_case, name, status) => {
    deploy(name, status === 'deleted' ? [(await startUpstream()).url] : []);
    const id = await submitted(name);
    if (status === 'deleted') await finished(name, id);
    const answer = await call(`${url}/serve/${name}/async/${id}`, { method: 'DELETE', headers: as.member });
    expect([answer.status, answer.json()]).toEqual([200, { id, status }]);
    expect((await result(name, id)).status).toBe(404);
  });

  it('refuses to take back a running call', async () => {
    const gate = await startGate();
    deploy('busy', [gate.upstream.url]);
    const id = await submitted('busy');
    await vi.waitFor(() => expect(gate.held).toHaveLength(1));
    const answer = await call(`${url}/serve/busy/async/${id}`, { method: 'DELETE', headers: as.member });
    expect([answer.status, answer.json()]).toEqual([409, { error: `the asynchronous call "${id}" is running: it can no longer be cancelled` }]);
    gate.releaseFirst();
    expect((await finished('busy', id)).status).toBe(200);
  });

  it('answers 405 to other methods', async () => {
    const answer = await call(`${url}/serve/churn/async/x`, { method: 'PUT', headers: as.member, body: '{}' });
    expect([answer.status, answer.headers.allow]).toEqual([405, 'POST, GET, DELETE']);
  });
});

describe('across a restart', () => {
  it('sends again the call a stop interrupted', async () => {
    const gate = await startGate();
    deploy('restart', [gate.upstream.url]);
    const id = await submitted('restart', '/invocations', 'interrupted');
    await vi.waitFor(() => expect(gate.held).toHaveLength(1));
    await queue.stop();
    expect(findAsyncRequest(t.app.db, id)).toMatchObject({ state: 'queued', attempts: 1 });
    await vi.waitFor(() => expect(gate.held).toHaveLength(0));
    await queue.start();
    await vi.waitFor(() => expect(gate.held).toHaveLength(1));
    gate.releaseFirst();
    expect((await finished('restart', id)).text).toBe('interrupted');
  });

  it('queues again a call left running by a crash', async () => {
    const echo = await startUpstream();
    deploy('crashed', [echo.url]);
    await queue.stop();
    const { id } = insertAsyncRequest(t.app.db, {
      id: 'left-running',
      deployment: 'crashed',
      projectId: t.app.projects.get('default').id,
      userId: t.app.users.get(MEMBER.username).id,
      method: 'POST',
      path: '/invocations',
      contentType: 'text/plain',
      body: Buffer.from('after the crash'),
      state: 'running',
      attempts: 1,
      notBefore: 0,
      createdAt: Date.now(),
      startedAt: Date.now(),
    });
    await queue.start();
    const done = await finished('crashed', id);
    expect(done.json<Echo>().body).toBe('after the crash');
    expect(findAsyncRequest(t.app.db, id)).toMatchObject({ state: 'succeeded', attempts: 2 });
  });
});

describe('retention', () => {
  it('removes results a day after they finished, and nothing younger', async () => {
    const echo = await startUpstream();
    deploy('kept', [echo.url]);
    const old = await submitted('kept');
    await finished('kept', old);
    clock.skewMs = DAY_MS / 2;
    const young = await submitted('kept');
    await finished('kept', young);
    deploy('kept', []);
    const waiting = await submitted('kept');

    clock.skewMs = DAY_MS + 1_000;
    expect(queue.sweep()).toBeGreaterThanOrEqual(1);
    expect((await result('kept', old)).status).toBe(404);
    expect((await result('kept', young)).status).toBe(200);
    expect((await result('kept', waiting)).json()).toMatchObject({ status: 'queued' });
    clock.skewMs = 0;
  });
});
