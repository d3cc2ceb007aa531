import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Principal } from '../../src/auth/credentials.ts';
import type { JobLogLine } from '../../src/scheduler/job-logs.ts';
import type { JobRecord } from '../../src/scheduler/jobs.ts';
import { jobSubmissionSchema } from '../../src/scheduler/job-request.ts';
import { liveFeeds } from '../../src/server/live.ts';
import { ADMIN, MEMBER, createTestApp, type TestApp } from '../helpers/test-app.ts';
import { addUser } from './mlflow/tracking-client.ts';

type User = { username: string; password: string };
type Session = { cookie: string; csrf: string };

let t: TestApp;
let viewer: User;
let editorSession: Session;
let viewerSession: Session;
let gpuUuids: string[];

/** A job as the scheduler would have moved it; the test stands in for the scheduler. */
function submitAs(username: string, fields: Record<string, unknown> = {}): JobRecord {
  const user = t.app.users.get(username);
  return t.app.jobs.submit(user, jobSubmissionSchema.parse({ image: 'busybox:1', command: ['sleep', '1'], ...fields }));
}
function run(job: JobRecord, uuids: string[]): JobRecord {
  t.app.jobs.move(job.id, 'queued', 'starting', 'placed', { gpuUuids: uuids, attempts: 1 });
  t.clock.advance(2000);
  return t.app.jobs.move(job.id, 'starting', 'running', 'started', { startedAt: t.clock.now })!;
}
function finish(job: JobRecord, state: 'succeeded' | 'failed', exitCode: number, gpuSeconds = 0): JobRecord {
  t.clock.advance(60_000);
  return t.app.jobs.move(job.id, 'running', state, state === 'failed' ? `exited with ${exitCode}` : 'exited 0', { exitCode, finishedAt: t.clock.now, gpuSeconds })!;
}

const page = (path: string, user: User = viewer, headers: Record<string, string> = {}) => t.get(path, user, headers);
const jobIdsIn = (text: string, section: 'job-queue' | 'job-history') => {
  const panel = new RegExp(`<div class="panel" id="${section}">([\\s\\S]*?)(?:<div class="panel"|</main>|$)`).exec(text)?.[1] ?? '';
  return [...panel.matchAll(/<tr id="job-(\d+)">/g)].map((match) => Number(match[1]));
};

async function post(path: string, session: Session, fields: Record<string, string>, htmx = true) {
  const response = await t.request(path, {
    method: 'POST',
    headers: { Cookie: session.cookie, ...(htmx && { 'HX-Request': 'true' }) },
    body: new URLSearchParams({ _csrf: session.csrf, ...fields }),
    redirect: 'manual',
  });
  return { status: response.status, text: await response.text(), headers: response.headers };
}

let queued: JobRecord;
let running: JobRecord;
let failed: JobRecord;
let secret: JobRecord;

beforeAll(async () => {
  t = await createTestApp();
  viewer = await addUser(t, 'val', 'viewer');
  t.app.projects.create({ name: 'secret', description: '' }, { actor: 'test' });
  [editorSession, viewerSession] = await Promise.all([t.signIn(MEMBER), t.signIn(viewer)]);
  gpuUuids = (await t.app.gpus.list()).devices.map((device) => device.uuid);

  queued = submitAs(MEMBER.username, { gpus: 2, priority: 5, name: 'big-train' });
  running = run(submitAs(MEMBER.username, { gpus: 1 }), [gpuUuids[1]!]);
  failed = finish(run(submitAs(ADMIN.username, { gpuMemory: '20GB' }), [gpuUuids[2]!]), 'failed', 3, 7200);
  secret = submitAs(ADMIN.username, { project: 'secret', name: 'hidden-job' });
});

describe('jobs list', () => {
  it('shows the queue (running first, the waiting reason of queued jobs) and the history, without other projects', async () => {
    const { status, text } = await page('/jobs');
    expect(status).toBe(200);
    expect(text).toContain('class="active">Jobs</a>');
    expect(jobIdsIn(text, 'job-queue')).toEqual([running.id, queued.id]);
    expect(jobIdsIn(text, 'job-history')).toEqual([failed.id]);
    const queuedRow = new RegExp(`<tr id="job-${queued.id}">[\\s\\S]*?</tr>`).exec(text)![0];
    expect(queuedRow).toContain('big-train');
    expect(queuedRow).toContain('waiting to be placed');
    expect(queuedRow).toContain('2 GPUs');
    expect(queuedRow).toMatch(/<td class="number">5<\/td>/);
    expect(queuedRow).toContain('>mia</td>');
    const runningRow = new RegExp(`<tr id="job-${running.id}">[\\s\\S]*?</tr>`).exec(text)![0];
    expect(runningRow).toContain(`<a href="/gpus#gpu-${gpuUuids[1]}" title="${gpuUuids[1]}">GPU 1</a>`);
    const failedRow = new RegExp(`<tr id="job-${failed.id}">[\\s\\S]*?</tr>`).exec(text)![0];
    expect(failedRow).toContain('data-state="failed"');
    expect(failedRow).toContain('exited with 3');
    expect(failedRow).toMatch(/<td class="number mono">3<\/td>/);
    expect(failedRow).toContain('2.0 GPU-h');
    expect(text).not.toContain('hidden-job');
    expect((await page('/jobs', ADMIN)).text).toContain('hidden-job');
    expect(text).toContain(`hx-ws:connect="/live?feeds=jobs:"`);
  });

  it('offers the submit form to editors only, with the default image', async () => {
    expect((await page('/jobs')).text).not.toContain('Submit a job');
    const { text } = await page('/jobs', MEMBER);
    expect(text).toContain('Submit a job');
    expect(text).toContain('name="image" required maxlength="512" value="trainyard/python:bookworm"');
    expect(text).toMatch(/<select name="project"><option value="default">default<\/option><\/select>/);
  });

  it('filters by state, by owner and by project, and keeps the filter in the live feed', async () => {
    const failedOnly = await page('/jobs?state=failed');
    expect(jobIdsIn(failedOnly.text, 'job-queue')).toEqual([]);
    expect(failedOnly.text).toContain('Nothing is waiting or running that matches.');
    expect(jobIdsIn(failedOnly.text, 'job-history')).toEqual([failed.id]);
    expect(failedOnly.text).toContain(`hx-ws:connect="/live?feeds=jobs:state%3Dfailed"`);
    expect(jobIdsIn((await page('/jobs?state=queued')).text, 'job-queue')).toEqual([queued.id]);

    const mine = await page('/jobs?mine=1', ADMIN);
    expect(jobIdsIn(mine.text, 'job-queue')).toEqual([secret.id]);
    expect(jobIdsIn(mine.text, 'job-history')).toEqual([failed.id]);
    expect(jobIdsIn((await page('/jobs?project=secret', ADMIN)).text, 'job-queue')).toEqual([secret.id]);
    expect(jobIdsIn((await page('/jobs?project=default', ADMIN)).text, 'job-queue')).toEqual([running.id, queued.id]);
  });

  it('answers a bad filter with 400 and a project the viewer cannot see with 404', async () => {
    for (const query of ['state=sleeping', 'mine=yes', 'before=abc', 'before=-1', 'before=99999999999999999999']) {
      const { status, text } = await page(`/jobs?${query}`);
      expect(status, query).toBe(400);
      expect(text).toContain(query.split('=')[0]);
    }
    expect((await page('/jobs?project=secret')).status).toBe(404);
    expect((await page('/jobs?project=nope')).status).toBe(404);
  });

  it('pages the history, newest first, with links that keep the filter', async () => {
    const extra = Array.from({ length: 52 }, () => finish(run(submitAs(MEMBER.username), []), 'succeeded', 0));
    const first = await page('/jobs?mine=1', MEMBER);
    const firstIds = jobIdsIn(first.text, 'job-history');
    expect(firstIds).toEqual(extra.slice(-50).map((job) => job.id).reverse());
    const older = /href="(\/jobs\?mine=1&amp;before=\d+)">Older/.exec(first.text)?.[1]?.replaceAll('&amp;', '&');
    expect(older).toBe(`/jobs?mine=1&before=${firstIds.at(-1)}`);
    const second = await page(older!, MEMBER);
    expect(jobIdsIn(second.text, 'job-history')).toEqual(extra.slice(0, 2).map((job) => job.id).reverse());
    expect(second.text).toContain('href="/jobs?mine=1">← Newest');
    expect(second.text).not.toContain('Older →');
  });

  it('answers htmx with the tables alone', async () => {
    const { status, text } = await page('/jobs', viewer, { 'HX-Request': 'true' });
    expect(status).toBe(200);
    expect(text.startsWith('<div id="job-tables">')).toBe(true);
  });
});

describe('submitting from the form', () => {
  const valid = {
    project: 'default',
    image: 'trainyard/python:bookworm',
    command: "python\r\n-c\r\nprint('hello world')\r\n\r\n",
    env: 'A=1\r\nB=x=y\r\n\r\n',
    gpus: '1',
    priority: '7',
    timeLimit: '2h',
    memory: '1GB',
    cpus: '1.5',
  };

  it('queues the job with one argument per line, no shell, and answers with the tables and a link to it', async () => {
    const { status, text } = await post('/jobs?state=queued', editorSession, valid);
    expect(status, text).toBe(200);
    const id = Number(/Queued <a href="\/jobs\/(\d+)">/.exec(text)?.[1]);
    const job = t.app.jobs.byId(id)!;
    expect(job).toMatchObject({
      state: 'queued',
      image: 'trainyard/python:bookworm',
      command: ['python', '-c', "print('hello world')"],
      env: { A: '1', B: 'x=y' },
      gpus: 1,
      priority: 7,
      timeLimitMs: 7_200_000,
      memory: 1024 ** 3,
      cpus: 1.5,
    });
    expect(text.startsWith('<div id="job-tables">')).toBe(true);
    expect(jobIdsIn(text, 'job-queue')).toContain(id);
    expect(text).toContain('<hx-partial hx-target="#submit-result"');
  });

  it('sends a plain form post (no JavaScript) to the new job page', async () => {
    const { status, headers } = await post('/jobs', editorSession, { ...valid, gpus: '' }, false);
    expect(status).toBe(303);
    expect(headers.get('location')).toMatch(/^\/jobs\/\d+$/);
  });

  const refusals: Array<[string, Record<string, string>, number, string]> = [
    ['an empty command', { command: '\r\n  \r\n' }, 400, 'command: write the program'],
    ['an image that is not a reference', { image: 'Not An Image!' }, 400, 'image must be a Docker image reference'],
    ['GPUs that are not a number', { gpus: 'two' }, 400, 'gpus:'],
    ['more GPUs than a job may ask for', { gpus: '65' }, 400, 'gpus:'],
    ['whole GPUs and GPU memory together', { gpus: '1', gpuMemory: '20GB' }, 400, 'not both'],
    ['a GPU memory that is not a size', { gpus: '', gpuMemory: 'lots' }, 400, 'gpuMemory must be a size'],
    ['a negative memory', { memory: '-5GB' }, 400, 'memory must be a size'],
    ['zero CPUs', { cpus: '0' }, 400, 'cpus:'],
    ['a priority out of range', { priority: '500' }, 400, 'priority:'],
    ['a time limit that is not a duration', { timeLimit: 'soon' }, 400, 'timeLimit must be a duration'],
    ['an env line without =', { env: 'A=1\nJUSTNAME' }, 400, 'env line 2: write NAME=value'],
    ['an env name set twice', { env: 'A=1\nA=2' }, 400, 'A is set twice'],
    ['an invalid env name', { env: '1A=x' }, 400, 'env.1A'],
    ['an env name Trainyard sets', { env: 'NVIDIA_VISIBLE_DEVICES=all' }, 400, 'env.NVIDIA_VISIBLE_DEVICES'],
    ['a project the user cannot see', { project: 'secret' }, 404, 'project "secret" does not exist'],
    ['a project that does not exist', { project: 'nope' }, 404, 'does not exist'],
    ['more GPUs than the host has', { gpus: '5' }, 400, 'this job could never run here: it asks for 5 GPUs, the host has 4'],
  ];
  for (const [name, fields, status, message] of refusals) {
    it(`refuses ${name} with ${status} in the flash area, queuing nothing`, async () => {
      const before = t.app.jobs.inStates(['queued']).length;
      const answer = await post('/jobs', editorSession, { ...valid, ...fields });
      expect(answer.status, answer.text).toBe(status);
      expect(answer.text).toContain(message.replace(/"/g, '&quot;'));
      expect(answer.headers.get('HX-Retarget')).toBe('#flash');
      expect(t.app.jobs.inStates(['queued']).length).toBe(before);
    });
  }

  it('refuses viewers (403) and posts without the CSRF token (403)', async () => {
    const before = t.app.jobs.inStates(['queued']).length;
    expect((await post('/jobs', viewerSession, valid)).status).toBe(403);
    const forged = await t.request('/jobs', { method: 'POST', headers: { Cookie: editorSession.cookie }, body: new URLSearchParams(valid) });
    expect(forged.status).toBe(403);
    expect(t.app.jobs.inStates(['queued']).length).toBe(before);
  });
});

describe('job page', () => {
  it('shows what the job is, what it holds, its events, its MLflow run and its log', async () => {
    t.app.jobs.update(running.id, { mlflowRunId: 'abc123', containerId: 'f00dfeedcafe0123' });
    t.app.jobLogs.append(running.id, [
      { stream: 'system', time: t.clock.now, text: 'container started' },
      { stream: 'stdout', time: t.clock.now, text: 'epoch 1 <b>loss</b> 0.5' },
      { stream: 'stderr', time: t.clock.now, text: 'warning: slow disk' },
    ]);
    const { status, text } = await page(`/jobs/${running.id}`);
    expect(status).toBe(200);
    expect(text).toContain('<code>busybox:1</code>');
    expect(text).toContain('<li><code>sleep</code></li><li><code>1</code></li>');
    expect(text).toContain(`<a href="/gpus#gpu-${gpuUuids[1]}" title="${gpuUuids[1]}">GPU 1</a>`);
    expect(text).toContain('<a href="/runs/abc123" class="mono">abc123</a>');
    expect(text).toContain('f00dfeedcafe');
    expect([...text.matchAll(/data-state="(\w+)"/g)].map((match) => match[1])).toEqual(['running', 'queued', 'starting', 'running']);
    expect(text).toContain('placed');
    expect(text).toMatch(/<div class="log-line stdout"><time>12:\d\d:\d\d<\/time>epoch 1 &lt;b&gt;loss&lt;\/b&gt; 0.5<\/div>/);
    expect(text).toContain('<div class="log-line stderr">');
    expect(text).toContain('<div class="log-line system">');
    expect(text).toContain(`hx-ws:connect="/live?feeds=job:${running.id}"`);
    expect(text).toContain('data-follow');
    expect(text).not.toContain('Cancel job');
  });

  it('follows nothing for a finished job', async () => {
    const { text } = await page(`/jobs/${failed.id}`);
    expect(text).toContain('exited with 3');
    expect(text).toContain('<main class="page" hx-ws:connect="/live">');
    expect(text).not.toContain('data-follow');
    expect(text).toContain('No output yet.');
  });

  it('keeps the last lines of a long log and says how many came before', async () => {
    const job = submitAs(MEMBER.username);
    t.app.jobLogs.append(job.id, Array.from({ length: 2500 }, (_, index) => ({ stream: 'stdout' as const, time: t.clock.now, text: `line ${index}` })));
    const { text } = await page(`/jobs/${job.id}`);
    expect(text).toContain('… 500 earlier lines not shown');
    expect(text.match(/class="log-line stdout"/g)).toHaveLength(2000);
    expect(text).toContain('>line 500</div>');
    expect(text).not.toContain('>line 499</div>');
  });

  it('answers 404 for a job the viewer cannot see and for ids that name no job', async () => {
    for (const id of [String(secret.id), '99999', 'abc', '0', '1e3']) {
      expect((await page(`/jobs/${id}`)).status, id).toBe(404);
    }
  });
});

describe('cancelling', () => {
  it('shows editors a cancel button that asks first; a queued job is cancelled at once', async () => {
    const job = submitAs(MEMBER.username, { name: 'to-cancel' });
    const { text } = await page(`/jobs/${job.id}`, MEMBER);
    expect(text).toContain(`hx-confirm="Cancel job ${job.id} (to-cancel)? A running job is stopped."`);
    const answer = await post(`/jobs/${job.id}/cancel`, editorSession, {});
    expect(answer.status).toBe(200);
    expect(answer.text.startsWith('<div id="job-summary">')).toBe(true);
    expect(answer.text).toContain('data-state="cancelled"');
    expect(answer.text).toContain('cancelled by mia');
    expect(answer.text).not.toContain('Cancel job');
    expect(t.app.jobs.byId(job.id)!.state).toBe('cancelled');
  });

  it('marks a running job for the scheduler to stop', async () => {
    const job = run(submitAs(MEMBER.username), [gpuUuids[3]!]);
    const answer = await post(`/jobs/${job.id}/cancel`, editorSession, {});
    expect(answer.status).toBe(200);
    expect(answer.text).toContain('Cancel requested');
    expect(t.app.jobs.byId(job.id)).toMatchObject({ state: 'running', cancelRequestedAt: t.clock.now });
  });

  it('refuses a finished job (409), viewers (403), hidden jobs (404), with the message in the flash area', async () => {
    const finished = await post(`/jobs/${failed.id}/cancel`, editorSession, {});
    expect(finished.status).toBe(409);
    expect(finished.text).toContain('already finished');
    expect(finished.headers.get('HX-Retarget')).toBe('#flash');
    expect((await post(`/jobs/${queued.id}/cancel`, viewerSession, {})).status).toBe(403);
    expect((await post(`/jobs/${secret.id}/cancel`, editorSession, {})).status).toBe(404);
    expect((await post('/jobs/nope/cancel', editorSession, {})).status).toBe(404);
    expect(t.app.jobs.byId(queued.id)!.state).toBe('queued');
    expect(t.app.jobs.byId(secret.id)!.state).toBe('queued');
  });

  it('sends a plain form post back to the job page', async () => {
    const job = submitAs(MEMBER.username);
    const answer = await post(`/jobs/${job.id}/cancel`, editorSession, {}, false);
    expect(answer.status).toBe(303);
    expect(answer.headers.get('location')).toBe(`/jobs/${job.id}`);
  });
});

describe('live updates', () => {
  afterEach(() => vi.useRealTimers());

  /** Subscribes `username` to a feed as a socket would; what it pushes, rendered. */
  function watch(username: string, feed: 'jobs' | 'job', argument: string) {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const principal: Principal = { user: t.app.users.get(username), via: 'session', scope: 'write', csrfToken: 'csrf-token' };
    const renders: Array<() => unknown> = [];
    const stop = liveFeeds(t.app)[feed]!(principal, argument)((render) => renders.push(render));
    return {
      stop,
      /** Lets the feed's timers run; the fragments pushed so far, rendered, and forgets them. */
      async pushed(ms = 300) {
        await vi.advanceTimersByTimeAsync(ms);
        return Promise.all(renders.splice(0).map(async (render) => String(await render())));
      },
    };
  }
  const line = (text: string, stream: JobLogLine['stream'] = 'stdout'): JobLogLine => ({ stream, time: t.clock.now, text });

  it("re-sends the jobs tables once for a burst of changes the viewer may see, under the page's filter", async () => {
    const feed = watch(viewer.username, 'jobs', 'state=queued');
    const first = submitAs(MEMBER.username, { name: 'burst-1' });
    const second = submitAs(MEMBER.username, { name: 'burst-2' });
    t.app.jobs.update(first.id, { reason: 'waiting for 1 GPU: 0 free' });
    const [tables, ...more] = await feed.pushed();
    expect(more).toEqual([]);
    expect(tables!.startsWith('<hx-partial hx-target="#job-tables" hx-swap="outerHTML"><div id="job-tables">')).toBe(true);
    expect(jobIdsIn(tables!, 'job-queue')).toEqual(expect.arrayContaining([first.id, second.id]));
    expect(tables).toContain('waiting for 1 GPU: 0 free');
    expect(jobIdsIn(tables!, 'job-history')).toEqual([]);

    submitAs(ADMIN.username, { project: 'secret' });
    expect(await feed.pushed()).toEqual([]);
    feed.stop();
    submitAs(MEMBER.username);
    expect(await feed.pushed()).toEqual([]);
  });

  it('refuses the socket before the upgrade for a hidden job or project, or a bad filter', async () => {
    const cases: Array<[string, number]> = [
      [`job:${secret.id}`, 404],
      ['job:nope', 404],
      ['jobs:project%3Dsecret', 404],
      ['jobs:state%3Dasleep', 400],
      [`audit,job:${secret.id}`, 404],
      ['jobz:1', 400],
    ];
    for (const [feeds, status] of cases) {
      const response = await t.request(`/live?feeds=${feeds}`, { headers: { Authorization: t.basic(viewer), Upgrade: 'websocket' } });
      expect(response.status, feeds).toBe(status);
    }
  });

  it('refuses a feed for a filter the viewer may not use', () => {
    const feeds = liveFeeds(t.app);
    const principal: Principal = { user: t.app.users.get(viewer.username), via: 'session', scope: 'write' };
    expect(() => feeds.jobs!(principal, 'project=secret')).toThrow('project "secret" does not exist');
    expect(() => feeds.jobs!(principal, 'state=asleep')).toThrow('state must be one of');
    expect(() => feeds.job!(principal, String(secret.id))).toThrow(`job ${secret.id} does not exist`);
    expect(() => feeds.job!(principal, 'x')).toThrow('does not exist');
    expect(() => feeds.job!(principal, undefined)).toThrow('does not exist');
  });

  it("sends a job's stored tail when it opens, then only new lines in batches, then its new state", async () => {
    const job = submitAs(MEMBER.username, { name: 'followed' });
    t.app.jobLogs.append(job.id, [line('before the socket')]);
    const feed = watch(viewer.username, 'job', String(job.id));
    const [tail, summary] = await feed.pushed();
    expect(tail).toMatch(/^<hx-partial hx-target="#job-log-lines" hx-swap="innerHTML"><div class="log-line stdout"><time>[\d:]+<\/time>before the socket<\/div><\/hx-partial>$/);
    expect(summary!.startsWith('<hx-partial hx-target="#job-summary" hx-swap="outerHTML"><div id="job-summary">')).toBe(true);

    t.app.jobLogs.append(job.id, [line('one')]);
    t.app.jobLogs.append(job.id, [line('two', 'stderr'), line('three', 'system')]);
    // A repeat of lines already sent (as after a restart of the writer) sends nothing twice.
    t.app.bus.publish('job.log', { jobId: job.id, first: 1, lines: [line('one'), line('two', 'stderr')] });
    t.app.jobLogs.append(job.id + 1000, [line('another job')]);
    const [batch, ...more] = await feed.pushed();
    expect(more).toEqual([]);
    expect(batch!.startsWith('<hx-partial hx-target="#job-log-lines" hx-swap="beforeend">')).toBe(true);
    expect([...batch!.matchAll(/<div class="log-line (\w+)"><time>[\d:]+<\/time>(\w+)<\/div>/g)].map((match) => `${match[1]}:${match[2]}`)).toEqual([
      'stdout:one',
      'stderr:two',
      'system:three',
    ]);

    run(job, [gpuUuids[0]!]);
    const [moved] = await feed.pushed();
    expect(moved).toContain('data-state="running"');
    expect(moved).toContain('GPU 0');
    feed.stop();
  });

  it('sends at most the lines the browser keeps, saying how many it left out', async () => {
    const job = submitAs(MEMBER.username);
    const feed = watch(viewer.username, 'job', String(job.id));
    await feed.pushed();
    t.app.jobLogs.append(job.id, Array.from({ length: 1500 }, (_, index) => line(`a${index}`)));
    t.app.jobLogs.append(job.id, Array.from({ length: 1500 }, (_, index) => line(`b${index}`)));
    const [batch] = await feed.pushed();
    expect(batch).toContain('… 1000 earlier lines not shown');
    expect(batch!.match(/class="log-line stdout"/g)).toHaveLength(2000);
    expect(batch).toContain('>a1000</div>');
    expect(batch).not.toContain('>a999</div>');
    feed.stop();
  });

  it('stops sending a log to a viewer who lost access to its project', async () => {
    const job = submitAs(MEMBER.username);
    const feed = watch(viewer.username, 'job', String(job.id));
    await feed.pushed();
    t.app.projects.removeMember(t.app.projects.get('default'), viewer.username, { actor: 'test' });
    try {
      t.app.jobLogs.append(job.id, [line('not for val')]);
      await expect(feed.pushed()).rejects.toThrow(`job ${job.id} does not exist`);
    } finally {
      t.app.projects.setMember(t.app.projects.get('default'), viewer.username, 'viewer', { actor: 'test' });
      feed.stop();
    }
  });
});
