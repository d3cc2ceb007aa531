import { beforeAll, describe, expect, it } from 'vitest';
import type { JobJson } from '../../src/scheduler/job-json.ts';
import { runScenarios, type Scenario } from '../helpers/scenarios.ts';
import { ADMIN, MEMBER, createTestApp, type TestApp } from '../helpers/test-app.ts';
import { tarGz } from '../scheduler/snapshot-archives.ts';
import { addUser } from './mlflow/tracking-client.ts';

let t: TestApp;
const VIEWER = { username: 'vic', password: 'vic-password-1' };
const OUTSIDER = { username: 'olga', password: 'olga-password-1' };
const basic = ({ username, password }: { username: string; password: string }) => `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
const as = (user: { username: string; password: string }) => ({ Authorization: basic(user) });

async function call<T>(method: string, path: string, user: { username: string; password: string }, body?: unknown) {
  const response = await t.request(path, {
    method,
    headers: { ...as(user), ...(body !== undefined && { 'Content-Type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as T };
}
const submit = (fields: Record<string, unknown> = {}, user = MEMBER) => call<{ job: JobJson }>('POST', '/api/v1/jobs', user, { command: ['python', 'train.py'], ...fields });

async function uploadSnapshot(user: { username: string; password: string }): Promise<string> {
  const response = await t.request('/api/v1/snapshots', { method: 'POST', headers: { ...as(user), 'Content-Type': 'application/gzip' }, body: tarGz([{ path: 'train.py', body: 'print(1)\n' }]) });
  expect(response.status).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

let mySnapshot: string;
let othersSnapshot: string;
let finishedJob: JobJson;

beforeAll(async () => {
  t = await createTestApp();
  await addUser(t, VIEWER.username, 'viewer');
  await addUser(t, OUTSIDER.username, undefined);
  [mySnapshot, othersSnapshot] = [await uploadSnapshot(MEMBER), await uploadSnapshot(ADMIN)];
  finishedJob = (await submit({ name: 'done already' })).json.job;
  t.app.jobs.move(finishedJob.id, 'queued', 'starting', 'placed');
  t.app.jobs.move(finishedJob.id, 'starting', 'running', 'started', { startedAt: t.clock.now });
  t.app.jobs.move(finishedJob.id, 'running', 'succeeded', 'exit code 0', { exitCode: 0, finishedAt: t.clock.now });
});

describe('POST /api/v1/jobs under GPU quotas', () => {
  it('refuses a job asking past a quota, which would wait forever, and queues one within it', async () => {
    const limited = await createTestApp({ gpuQuotaPerUser: 2, gpuQuotaPerProject: 3 });
    const post = async (fields: Record<string, unknown>) => {
      const response = await limited.request('/api/v1/jobs', { method: 'POST', headers: { ...as(MEMBER), 'Content-Type': 'application/json' }, body: JSON.stringify({ command: ['true'], ...fields }) });
      return { status: response.status, json: (await response.json()) as { message?: string } };
    };
    expect(await post({ gpus: 3 })).toEqual({ status: 400, json: expect.objectContaining({ message: 'this job could never run here: it asks for 3 GPUs, the user quota is 2 GPUs' }) });
    expect((await post({ gpus: 2 })).status).toBe(201);
    expect(limited.app.jobs.inStates(['queued'])).toHaveLength(1);
  });
});

describe('POST /api/v1/jobs', () => {
  it('queues a job in the default image and answers it as one JSON shape', async () => {
    const { status, json } = await submit({ gpuMemory: '20GB', memory: '16GB', cpus: 2, timeLimit: '2h', env: { EPOCHS: '3' }, snapshotId: mySnapshot });
    expect(status).toBe(201);
    expect(json.job).toEqual({
      id: expect.any(Number),
      project: 'default',
      user: MEMBER.username,
      name: 'python train.py',
      image: 'trainyard/python:bookworm',
      command: ['python', 'train.py'],
      env: { EPOCHS: '3' },
      state: 'queued',
      reason: 'waiting to be placed',
      resources: { gpus: 0, gpuMemory: 20 * 2 ** 30, cpus: 2, memory: 16 * 2 ** 30 },
      priority: 0,
      preemptible: false,
      timeLimitMs: 2 * 3_600_000,
      maxRetries: 0,
      attempts: 0,
      snapshotId: mySnapshot,
      privileged: false,
      hostNetwork: false,
      mounts: [],
      capabilities: [],
      deploymentId: null,
      gpuUuids: [],
      exitCode: null,
      mlflowRunId: null,
      gpuSeconds: 0,
      submittedAt: t.clock.now,
      startedAt: null,
      finishedAt: null,
      cancelRequestedAt: null,
    });
  });

  it('takes the image the submission names', async () => {
    expect((await submit({ image: 'python:3.12', gpus: 4 })).json.job).toMatchObject({ image: 'python:3.12', resources: { gpus: 4 } });
  });

  const post = (name: string, body: unknown, status: number, message: RegExp | string, user = MEMBER): Scenario => ({
    name,
    method: 'POST',
    path: '/api/v1/jobs',
    headers: as(user),
    body,
    status,
    json: { message: expect.stringMatching(message) },
  });
  const job = (fields: Record<string, unknown>) => ({ command: ['python', 'train.py'], ...fields });
  runScenarios(() => t, [
    post('refuses a command given as a string', job({ command: 'python train.py' }), 400, 'command: command must be a list of arguments'),
    post('refuses a job without a command', {}, 400, /^command: /),
    post('refuses 65 GPUs', job({ gpus: 65 }), 400, /^gpus: /),
    post('refuses more GPUs than the server has', job({ gpus: 5 }), 400, 'this job could never run here: it asks for 5 GPUs, the host has 4'),
    post('refuses more memory than any one GPU has', job({ gpuMemory: '900GB' }), 400, /could never run here: it asks for 900\.0 GB of GPU memory on one GPU, the largest has 80\.0 GB/),
    post('refuses more CPUs than the host has', job({ cpus: 1024 }), 400, /could never run here: it asks for 1024 CPUs, the host gives jobs \d+/),
    post('refuses more memory than the host has', job({ memory: '900TB' }), 400, /could never run here: it asks for .* of memory, the host gives jobs/),
    post('refuses a negative memory', job({ memory: -1 }), 400, 'memory: memory must be a size'),
    post('refuses a negative memory written as text', job({ memory: '-4GB' }), 400, 'memory: memory must be a size'),
    post('refuses an env name with a dash', job({ env: { 'MY-VAR': '1' } }), 400, /^env\.MY-VAR: /),
    post('refuses an env name Trainyard sets', job({ env: { NVIDIA_VISIBLE_DEVICES: 'all' } }), 400, /^env\.NVIDIA_VISIBLE_DEVICES: /),
    post('refuses an env value that is not text', job({ env: { EPOCHS: 3 } }), 400, /^env\.EPOCHS: /),
    post('refuses an image that is not a reference', job({ image: 'Not An Image!' }), 400, 'Docker image reference'),
    post('refuses a snapshot id that is not one', job({ snapshotId: '../../etc' }), 400, 'snapshotId'),
    post('refuses an unknown snapshot', job({ snapshotId: 'f'.repeat(32) }), 400, /snapshot f{32} does not exist/),
    post('refuses an unknown field', job({ gpu: 1 }), 400, 'unknown field gpu'),
    post('refuses a body that is a list', [], 400, /object/),
    post('refuses a viewer', job({}), 403, /./, VIEWER),
    post('hides a project from an outsider', job({}), 404, 'project "default" does not exist', OUTSIDER),
    post('refuses a project that does not exist', job({ project: 'nope' }), 404, 'project "nope" does not exist'),
    { name: 'wants JSON', method: 'POST', path: '/api/v1/jobs', headers: { ...as(MEMBER), 'Content-Type': 'text/plain' }, body: 'python train.py', status: 415 },
    { name: 'refuses malformed JSON', method: 'POST', path: '/api/v1/jobs', headers: { ...as(MEMBER), 'Content-Type': 'application/json' }, body: '{"command": [', status: 400, json: { error_code: 'BAD_REQUEST' } },
  ]);

  it("refuses someone else's snapshot, as if it did not exist", async () => {
    const { status, json } = await submit({ snapshotId: othersSnapshot });
    expect(status).toBe(400);
    expect(json).toMatchObject({ error_code: 'BAD_REQUEST', message: `snapshot ${othersSnapshot} does not exist (or is not yours): upload the code again` });
  });

  it('stores nothing when it refuses', async () => {
    const before = t.app.jobs.list(t.app.users.get(ADMIN.username), { limit: 500 }).length;
    await submit({ gpus: 5 });
    await submit({ snapshotId: othersSnapshot });
    await submit({}, VIEWER);
    expect(t.app.jobs.list(t.app.users.get(ADMIN.username), { limit: 500 })).toHaveLength(before);
  });
});

describe('GET /api/v1/jobs', () => {
  it('lists newest first and pages with next_before', async () => {
    const ids = [];
    for (let n = 0; n < 3; n++) ids.push((await submit({ name: `page ${n}`, project: 'default' })).json.job.id);
    const first = await call<{ jobs: JobJson[]; next_before: number | null }>('GET', '/api/v1/jobs?limit=2', MEMBER);
    expect(first.json.jobs.map((job) => job.id)).toEqual([ids[2], ids[1]]);
    expect(first.json.next_before).toBe(ids[1]);
    const second = await call<{ jobs: JobJson[] }>('GET', `/api/v1/jobs?limit=2&before=${first.json.next_before}`, MEMBER);
    expect(second.json.jobs[0]!.id).toBe(ids[0]);
    const all = await call<{ jobs: JobJson[]; next_before: number | null }>('GET', '/api/v1/jobs?limit=500', MEMBER);
    expect(all.json.next_before).toBeNull();
  });

  it('filters by states, project and owner', async () => {
    const adminJob = (await submit({ name: 'the admin one' }, ADMIN)).json.job;
    const list = async (query: string, user = MEMBER) => (await call<{ jobs: JobJson[] }>('GET', `/api/v1/jobs?${query}`, user)).json.jobs;
    expect((await list('state=succeeded')).map((job) => job.id)).toEqual([finishedJob.id]);
    expect((await list('state=queued,running')).every((job) => job.state === 'queued')).toBe(true);
    expect((await list('mine=1')).some((job) => job.id === adminJob.id)).toBe(false);
    expect((await list('mine=1', ADMIN)).map((job) => job.id)).toEqual([adminJob.id]);
    expect((await list('project=default')).some((job) => job.id === adminJob.id)).toBe(true);
    expect(await list('', OUTSIDER)).toEqual([]);
  });

  const get = (name: string, path: string, status: number, message: RegExp | string, user = MEMBER): Scenario => ({
    name,
    path,
    headers: as(user),
    status,
    json: { message: expect.stringMatching(message) },
  });
  runScenarios(() => t, [
    get('refuses an unknown state', '/api/v1/jobs?state=queued,sleeping', 400, '"sleeping" is not a job state'),
    get('refuses a limit of 0', '/api/v1/jobs?limit=0', 400, /^limit: /),
    get('refuses a limit of 501', '/api/v1/jobs?limit=501', 400, /^limit: /),
    get('refuses a before that is not an id', '/api/v1/jobs?before=yesterday', 400, /^before: /),
    get('refuses a mine that is not a flag', '/api/v1/jobs?mine=yes', 400, /^mine: /),
    get('hides a project from an outsider', '/api/v1/jobs?project=default', 404, 'project "default" does not exist', OUTSIDER),
  ]);
});

describe('GET /api/v1/jobs/:id and cancel', () => {
  it('answers a job with its events', async () => {
    const { status, json } = await call<{ job: JobJson; events: unknown[] }>('GET', `/api/v1/jobs/${finishedJob.id}`, VIEWER);
    expect(status).toBe(200);
    expect(json.job).toMatchObject({ id: finishedJob.id, state: 'succeeded', exitCode: 0 });
    expect(json.events).toEqual([
      { at: t.clock.now, from: null, to: 'queued', reason: 'submitted' },
      { at: t.clock.now, from: 'queued', to: 'starting', reason: 'placed' },
      { at: t.clock.now, from: 'starting', to: 'running', reason: 'started' },
      { at: t.clock.now, from: 'running', to: 'succeeded', reason: 'exit code 0' },
    ]);
  });

  it('cancels a queued job at once', async () => {
    const { id } = (await submit()).json.job;
    const { status, json } = await call<{ job: JobJson }>('POST', `/api/v1/jobs/${id}/cancel`, MEMBER);
    expect(status).toBe(200);
    expect(json.job).toMatchObject({ id, state: 'cancelled', reason: `cancelled by ${MEMBER.username}` });
  });

  it('marks a running job for the scheduler to stop', async () => {
    const { id } = (await submit()).json.job;
    t.app.jobs.move(id, 'queued', 'starting', 'placed');
    const { json } = await call<{ job: JobJson }>('POST', `/api/v1/jobs/${id}/cancel`, MEMBER);
    expect(json.job).toMatchObject({ state: 'starting', cancelRequestedAt: t.clock.now });
  });

  const request = (name: string, method: string, path: string, status: number, user = MEMBER): Scenario => ({ name, method, path, headers: as(user), status });
  runScenarios(() => t, [
    { ...request('refuses to cancel a finished job', 'POST', '/api/v1/jobs/FINISHED/cancel', 409), json: { error_code: 'INVALID_STATE', message: expect.stringMatching(/has already finished \(succeeded\)/) } },
    request('lets a viewer read a job', 'GET', '/api/v1/jobs/FINISHED', 200, VIEWER),
    request('refuses a viewer a cancel', 'POST', '/api/v1/jobs/FINISHED/cancel', 403, VIEWER),
    request('hides a job from an outsider', 'GET', '/api/v1/jobs/FINISHED', 404, OUTSIDER),
    request("hides a job's log from an outsider", 'GET', '/api/v1/jobs/FINISHED/logs', 404, OUTSIDER),
    request('hides a job from an outsider who cancels', 'POST', '/api/v1/jobs/FINISHED/cancel', 404, OUTSIDER),
    request('answers 404 for a job that does not exist', 'GET', '/api/v1/jobs/999999', 404),
    request('answers 404 for an id that is not one', 'GET', '/api/v1/jobs/1e3', 404),
    request('answers 404 for a negative id', 'POST', '/api/v1/jobs/-1/cancel', 404),
  ].map((scenario) => ({ ...scenario, get path() {
    return scenario.path.replace('FINISHED', String(finishedJob.id));
  } })));
});

describe('GET /api/v1/jobs/:id/logs', () => {
  const line = (text: string, stream: 'stdout' | 'stderr' = 'stdout') => ({ stream, time: t.clock.now, text });
  const runningJob = async () => {
    const { id } = (await submit()).json.job;
    t.app.jobs.move(id, 'queued', 'starting', 'placed');
    t.app.jobs.move(id, 'starting', 'running', 'started', { startedAt: t.clock.now });
    return id;
  };

  /** Reads an event stream as text, a chunk at a time, until `until` shows up in it. */
  function eventReader(response: Response) {
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    return {
      async until(fragment: string) {
        while (!text.includes(fragment)) {
          const { done, value } = await reader.read();
          if (done) throw new Error(`the stream ended before ${fragment}: ${text}`);
          text += decoder.decode(value, { stream: true });
        }
        return text;
      },
      async rest() {
        for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += decoder.decode(chunk.value, { stream: true });
        return text;
      },
    };
  }

  it('answers a page of lines and where the next starts', async () => {
    const id = await runningJob();
    t.app.jobLogs.append(id, [line('one'), line('two'), line('oops', 'stderr')]);
    const all = await call<{ lines: unknown[]; next: number }>('GET', `/api/v1/jobs/${id}/logs`, VIEWER);
    expect(all).toEqual({ status: 200, json: { lines: [line('one'), line('two'), line('oops', 'stderr')], next: 3 } });
    expect((await call('GET', `/api/v1/jobs/${id}/logs?from=1&limit=1`, MEMBER)).json).toEqual({ lines: [line('two')], next: 2 });
    expect((await call('GET', `/api/v1/jobs/${id}/logs?from=3`, MEMBER)).json).toEqual({ lines: [], next: 3 });
  });

  it('follows as server-sent events while lines arrive, and ends with the final state', async () => {
    const id = await runningJob();
    t.app.jobLogs.append(id, [line('epoch 1')]);
    const response = await t.request(`/api/v1/jobs/${id}/logs?follow=1`, { headers: as(MEMBER) });
    expect(response.status).toBe(200);
    expect(response.headers.get('Content-Type')).toMatch(/^text\/event-stream/);
    const events = eventReader(response);
    await events.until('epoch 1');
    t.app.jobLogs.append(id, [line('epoch 2', 'stderr')]);
    await events.until('epoch 2');
    t.app.jobs.move(id, 'running', 'failed', 'exit code 3', { exitCode: 3, finishedAt: t.clock.now });
    expect(await events.rest()).toBe(
      `data: ${JSON.stringify(line('epoch 1'))}\nid: 0\n\n` +
        `data: ${JSON.stringify(line('epoch 2', 'stderr'))}\nid: 1\n\n` +
        `event: end\ndata: ${JSON.stringify({ state: 'failed', exitCode: 3, reason: 'exit code 3' })}\n\n`,
    );
  });

  it('resumes after Last-Event-ID, and ends at once for a finished job', async () => {
    const id = await runningJob();
    t.app.jobLogs.append(id, [line('a'), line('b'), line('c')]);
    t.app.jobs.move(id, 'running', 'succeeded', 'exit code 0', { exitCode: 0 });
    const response = await t.request(`/api/v1/jobs/${id}/logs?follow=1&from=0`, { headers: { ...as(MEMBER), 'Last-Event-ID': '1' } });
    const text = await eventReader(response).rest();
    expect(text).toBe(`data: ${JSON.stringify(line('c'))}\nid: 2\n\nevent: end\ndata: ${JSON.stringify({ state: 'succeeded', exitCode: 0, reason: 'exit code 0' })}\n\n`);
  });

  it('stops following when the client goes away', async () => {
    const id = await runningJob();
    const subscribe = t.app.bus.subscribe.bind(t.app.bus);
    let following = 0;
    t.app.bus.subscribe = (topic, listener) => {
      const unsubscribe = subscribe(topic, listener);
      if (topic !== 'job.log') return unsubscribe;
      following++;
      return () => {
        following--;
        unsubscribe();
      };
    };
    try {
      const client = new AbortController();
      const response = await t.request(`/api/v1/jobs/${id}/logs?follow=1`, { headers: as(MEMBER), signal: client.signal });
      t.app.jobLogs.append(id, [line('hello')]);
      await eventReader(response).until('hello');
      expect(following).toBe(1);
      client.abort();
      await expect.poll(() => following).toBe(0);
    } finally {
      t.app.bus.subscribe = subscribe;
    }
  });

  const get = (name: string, path: string, status: number, message: RegExp | string, headers: Record<string, string> = {}): Scenario => ({
    name,
    path,
    headers: { ...as(MEMBER), ...headers },
    status,
    json: { message: expect.stringMatching(message) },
  });
  runScenarios(() => t, [
    get('refuses a negative from', '/api/v1/jobs/1/logs?from=-1', 400, /^from: /),
    get('refuses a from that is not a number', '/api/v1/jobs/1/logs?from=start', 400, /^from: /),
    get('refuses a follow that is not a flag', '/api/v1/jobs/1/logs?follow=please', 400, /^follow: /),
    get('refuses a Last-Event-ID that is not a line number', '/api/v1/jobs/1/logs?follow=1', 400, 'Last-Event-ID must be a line number', { 'Last-Event-ID': 'abc' }),
    get('answers 404 for the log of a job that does not exist', '/api/v1/jobs/999999/logs?follow=1', 404, 'job 999999 does not exist'),
  ]);
});
