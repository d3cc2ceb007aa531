// The resource charts' data: GET /api/v1/monitoring/series, and the live feeds that extend the charts.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../../src/auth/credentials.ts';
import type { MonitorSample } from '../../src/monitoring/sample.ts';
import { jobSubmissionSchema } from '../../src/scheduler/job-request.ts';
import { liveFeeds } from '../../src/server/live.ts';
import { ADMIN, MEMBER, createTestApp, type TestApp } from '../helpers/test-app.ts';
import { runScenarios } from '../helpers/scenarios.ts';
import { deploy, registerVersion } from '../serving/deployment-fixtures.ts';

const GIB = 1024 ** 3;
const HOUR = 3_600_000;
const basic = ({ username, password }: { username: string; password: string }) => `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
const asMember = { Authorization: basic(MEMBER) };
const series = '/api/v1/monitoring/series';

let t: TestApp;
let gpu: string;
/** The member's job in the default project, the admin's in a project the member is not in. */
let ownJob: number;
let secretJob: number;
let ownDeployment: number;
let secretDeployment: number;

function runningJob(username: string, project: string, name: string, gpuUuids: string[] = []) {
  const job = t.app.jobs.submit(t.app.users.get(username), jobSubmissionSchema.parse({ project, name, image: 'busybox:1', command: ['true'], gpus: gpuUuids.length }));
  t.app.jobs.move(job.id, 'queued', 'starting', 'placed', { gpuUuids });
  return t.app.jobs.move(job.id, 'starting', 'running', 'started', { startedAt: t.clock.now })!.id;
}

/** A round as the sampler publishes it, with these containers only. */
function sampleWith(containers: MonitorSample['containers']): MonitorSample {
  return { at: t.clock.now, intervalMs: 5_000, gpus: [], host: null, containers, skipped: [] };
}

const principalOf = (username: string): Principal => ({ user: t.app.users.get(username), via: 'session', scope: 'write' });

beforeAll(async () => {
  t = await createTestApp();
  const admin = t.app.users.get(ADMIN.username);
  t.app.projects.create({ name: 'secret', description: '' }, { actor: 'test' });
  gpu = (await t.app.gpus.list()).devices[0]!.uuid;
  ownJob = runningJob(MEMBER.username, 'default', 'mine', [gpu]);
  secretJob = runningJob(ADMIN.username, 'secret', 'classified');
  await registerVersion(t.app, admin, 'churn', { 'model.pkl': 'one' });
  ownDeployment = (await deploy(t.app, admin, { name: 'churn', model: 'models:/churn/1' })).id;
  secretDeployment = (await deploy(t.app, admin, { name: 'hidden', model: 'models:/churn/1', project: 'secret' })).id;
  // Three rounds at the sampler's interval, the GPU busier each time.
  for (const load of [0.2, 0.5, 0.8]) {
    t.app.gpus.setLoad(gpu, load, Math.round(load * 40 * GIB));
    await t.app.monitoring.sampleOnce();
    t.clock.advance(t.app.config.sampleIntervalMs);
  }
});

describe('GET /api/v1/monitoring/series: bad input', () => {
  runScenarios(() => t, [
    { name: 'needs a credential', path: `${series}?subject=host`, status: 401 },
    { name: 'needs a subject', path: series, headers: asMember, status: 400, contains: ['subject is required: gpu:<uuid>, host, job:<id> or deployment:<id>'] },
    { name: 'refuses an unknown kind of subject', path: `${series}?subject=weather`, headers: asMember, status: 400, contains: ['subject must be gpu:<uuid>, host, job:<id> or deployment:<id>; got \\"weather\\"'] },
    { name: 'refuses a GPU that is not a uuid', path: `${series}?subject=gpu:0`, headers: asMember, status: 400, contains: ['GPU or MIG device by its uuid'] },
    { name: 'refuses a job id that is not a number', path: `${series}?subject=job:abc`, headers: asMember, status: 400, contains: ['job:<id> needs a positive whole number, got \\"abc\\"'] },
    { name: 'refuses deployment 0', path: `${series}?subject=deployment:0`, headers: asMember, status: 400, contains: ['deployment:<id> needs a positive whole number'] },
    { name: 'refuses a time that is not a number', path: `${series}?subject=host&from=yesterday`, headers: asMember, status: 400, contains: ['from: must be a time in milliseconds since the epoch'] },
    { name: 'refuses a range that ends before it starts', path: `${series}?subject=host&from=2000&to=1000`, headers: asMember, status: 400, contains: ['from (2000) must not be after to (1000)'] },
    { name: 'refuses zero points', path: `${series}?subject=host&maxPoints=0`, headers: asMember, status: 400, contains: ['maxPoints: must be at least 1'] },
    { name: 'refuses too many points', path: `${series}?subject=host&maxPoints=100000`, headers: asMember, status: 400, contains: ['maxPoints: must be at most 10000'] },
    { name: 'refuses an unknown parameter', path: `${series}?subject=host&points=10`, headers: asMember, status: 400, contains: ['unknown field points'] },
  ]);
});

describe('GET /api/v1/monitoring/series', () => {
  it("answers a GPU's last hour in uPlot's column shape", async () => {
    const { status, text } = await t.get(`${series}?subject=gpu:${gpu}`, MEMBER);
    expect(status, text).toBe(200);
    const body = JSON.parse(text);
    expect(body).toMatchObject({ subject: `gpu:${gpu}`, to: t.clock.now, from: t.clock.now - HOUR });
    expect(body.at).toHaveLength(3);
    expect(body.fields.utilization).toEqual([0.2, 0.5, 0.8]);
    expect(body.fields.memoryUsed).toEqual([8, 20, 32].map((gib) => gib * GIB));
    expect(Object.keys(body.fields)).toEqual(expect.arrayContaining(['memoryTotal', 'temperature', 'powerDraw', 'powerLimit']));
  });

  it('reads the range asked for, and at most maxPoints points', async () => {
    const [first] = JSON.parse((await t.get(`${series}?subject=gpu:${gpu}`, MEMBER)).text).at as number[];
    const later = JSON.parse((await t.get(`${series}?subject=gpu:${gpu}&from=${first! + 1}&to=${t.clock.now}`, MEMBER)).text);
    expect(later.fields.utilization).toEqual([0.5, 0.8]);
    const merged = JSON.parse((await t.get(`${series}?subject=gpu:${gpu}&maxPoints=1`, MEMBER)).text);
    expect(merged.at.length).toBeLessThanOrEqual(1);
  });

  it("answers the host's series to anyone signed in", async () => {
    const body = JSON.parse((await t.get(`${series}?subject=host`, MEMBER)).text);
    expect(Object.keys(body.fields)).toEqual(expect.arrayContaining(['cpu', 'load1', 'memoryUsed', 'diskUsed', 'netRxBytesPerSecond']));
  });

  it("answers a job's and a deployment's series to those who may see their project, and 404 to others", async () => {
    for (const [subject, user, status] of [
      [`job:${ownJob}`, MEMBER, 200],
      [`job:${secretJob}`, MEMBER, 404],
      [`job:${secretJob}`, ADMIN, 200],
      ['job:999999', ADMIN, 404],
      [`deployment:${ownDeployment}`, MEMBER, 200],
      [`deployment:${secretDeployment}`, MEMBER, 404],
      [`deployment:${secretDeployment}`, ADMIN, 200],
      ['deployment:999999', ADMIN, 404],
    ] as const) {
      const { status: answered, text } = await t.get(`${series}?subject=${subject}`, user);
      expect(answered, `${subject} as ${user.username}: ${text}`).toBe(status);
      if (status === 404) expect(JSON.parse(text).message).toMatch(/does not exist/);
      else expect(Object.keys(JSON.parse(text).fields)).toEqual(['cpu', 'memoryBytes', 'gpuMemoryBytes']);
    }
  });
});

describe('live feeds of chart points', () => {
  /** What a feed pushes for the next round, rendered as the socket would send it. */
  async function pushedFor(feed: string, principal: Principal, argument: string | undefined, sample: MonitorSample): Promise<string[]> {
    const sent: string[] = [];
    const renders: Array<Promise<void>> = [];
    const stop = liveFeeds(t.app)[feed]!(principal, argument)((render) => renders.push(Promise.resolve(render()).then((text) => void sent.push(String(text)))));
    t.app.bus.publish('monitoring.sample', sample);
    stop();
    await Promise.all(renders);
    return sent;
  }

  it('pushes every GPU\'s new point as one JSON message that hx-ws swaps nowhere', async () => {
    const sample = await t.app.monitoring.sampleOnce();
    const sent = await pushedFor('gpus', principalOf(MEMBER.username), undefined, sample);
    expect(sent).toHaveLength(1);
    const message = JSON.parse(sent[0]!);
    expect(message).not.toHaveProperty('content');
    expect(message.points).toHaveLength(4);
    expect(message.points[0]).toMatchObject({ subject: `gpu:${gpu}`, at: sample.at, values: { utilization: 0.8, memoryTotal: 80 * GIB } });
  });

  it("sums a deployment's replicas and leaves out rounds without a reading of the subject", async () => {
    const replicas = [
      { jobId: 901, deploymentId: ownDeployment, cpu: 0.5, memoryBytes: GIB, gpuMemoryBytes: null },
      { jobId: 902, deploymentId: ownDeployment, cpu: 0.25, memoryBytes: 2 * GIB, gpuMemoryBytes: null },
    ];
    const [message] = await pushedFor('series', principalOf(MEMBER.username), `deployment:${ownDeployment}`, sampleWith(replicas));
    expect(JSON.parse(message!).points).toEqual([{ subject: `deployment:${ownDeployment}`, at: t.clock.now, values: { cpu: 0.75, memoryBytes: 3 * GIB, gpuMemoryBytes: null } }]);
    expect(await pushedFor('series', principalOf(MEMBER.username), `job:${ownJob}`, sampleWith(replicas))).toEqual([]);
  });

  it("pushes a job's container points on its page's job feed", async () => {
    const container = { jobId: ownJob, deploymentId: null, cpu: 1.5, memoryBytes: 2 * GIB, gpuMemoryBytes: 6 * GIB };
    const sent = await pushedFor('job', principalOf(MEMBER.username), String(ownJob), sampleWith([container]));
    const points = sent.filter((text) => text.startsWith('{')).map((text) => JSON.parse(text).points);
    expect(points).toEqual([[{ subject: `job:${ownJob}`, at: t.clock.now, values: { cpu: 1.5, memoryBytes: 2 * GIB, gpuMemoryBytes: 6 * GIB } }]]);
  });

  it('refuses a subject the viewer may not see, and a malformed one, before the socket opens', () => {
    const member = principalOf(MEMBER.username);
    expect(() => liveFeeds(t.app).series!(member, `job:${secretJob}`)).toThrow(/does not exist/);
    expect(() => liveFeeds(t.app).series!(member, `deployment:${secretDeployment}`)).toThrow(/does not exist/);
    expect(() => liveFeeds(t.app).series!(member, 'gpu:nope')).toThrow(/uuid/);
    expect(() => liveFeeds(t.app).series!(member, undefined)).toThrow(/subject must be/);
  });
});

describe("resource charts on a job's and a deployment's page", () => {
  it('charts a running job live, and a finished one without the feed', async () => {
    const { text } = await t.get(`/jobs/${ownJob}`, MEMBER);
    // The job's own feed carries its container's points beside its summary and log.
    expect(text).toContain(`hx-ws:connect="/live?feeds=job:${ownJob}"`);
    expect(text).toContain('<div class="panel" id="resource-usage">');
    expect(text).toContain(`data-resource-chart="{&quot;subject&quot;:&quot;job:${ownJob}&quot;`);
    expect(text).toMatch(/<script src="\/static\/\w+\/resource-charts.js" defer><\/script>/);

    const finished = runningJob(MEMBER.username, 'default', 'done');
    t.app.jobs.move(finished, 'running', 'succeeded', 'exited 0', { finishedAt: t.clock.now, exitCode: 0 });
    const page = (await t.get(`/jobs/${finished}`, MEMBER)).text;
    expect(page).toContain(`&quot;subject&quot;:&quot;job:${finished}&quot;`);
    expect(page).toContain('<main class="page" hx-ws:connect="/live">');
  });

  it('leaves the chart out for a job that ended before it started', async () => {
    const job = t.app.jobs.submit(t.app.users.get(MEMBER.username), jobSubmissionSchema.parse({ name: 'never', image: 'busybox:1', command: ['true'] }));
    t.app.jobs.cancel(t.app.users.get(MEMBER.username), job.id);
    expect((await t.get(`/jobs/${job.id}`, MEMBER)).text).not.toContain('id="resource-usage"');
  });

  it("charts a deployment's replicas together, live while it serves", async () => {
    const { text } = await t.get('/deployments/churn', MEMBER);
    expect(text).toContain(`hx-ws:connect="/live?feeds=series:deployment:${ownDeployment}"`);
    expect(text).toContain(`&quot;subject&quot;:&quot;deployment:${ownDeployment}&quot;`);
    expect(text).toContain('summed over the replicas, live');
  });
});
