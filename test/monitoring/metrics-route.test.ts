import { serve, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobSubmissionSchema } from '../../src/scheduler/job-request.ts';
import { ADMIN, MEMBER, createTestApp, type TestApp } from '../helpers/test-app.ts';
import { deploy, registerVersion } from '../serving/deployment-fixtures.ts';
import { familiesOf, parseSamples, valuesOf } from './prometheus-text.ts';

const GIB = 1024 ** 3;
const by = { actor: 'test' };
let t: TestApp;
let tokens: { read: string; run: string };

const submit = (name: string, gpus = 1) =>
  t.app.jobs.submit(t.app.users.get(MEMBER.username), jobSubmissionSchema.parse({ project: 'default', name, image: 'busybox:1', command: ['true'], gpus }));

async function scrape(test = t) {
  const { status, text, headers } = await test.get('/metrics', ADMIN);
  expect(status, text.slice(0, 300)).toBe(200);
  return { text, samples: parseSamples(text), contentType: headers.get('content-type') };
}

beforeAll(async () => {
  t = await createTestApp();
  const member = t.app.users.get(MEMBER.username);
  const run = t.app.tracking.runs.create({ user: member }, { experiment_id: '0', start_time: t.clock.now });
  tokens = {
    read: t.app.tokens.create(member, { name: 'prometheus', scope: 'read' }, by).secret,
    run: t.app.tokens.createForRun(member, { runUuid: run.run.info.run_id, name: 'job 1', expiresAt: t.clock.now + 3_600_000 }, by).secret,
  };
});

describe('who may read /metrics', () => {
  const ACCESS: Array<[string, number, () => Promise<Record<string, string>>, string]> = [
    ['no credential (a 401 a scraper can report, not a sign-in page)', 401, async () => ({}), '"error_code":"UNAUTHENTICATED"'],
    ["a member's Basic credentials", 200, async () => ({ Authorization: t.basic(MEMBER) }), '# TYPE trainyard_gpu_utilization_ratio gauge'],
    ["a member's session", 200, async () => ({ Cookie: (await t.signIn(MEMBER)).cookie }), '# TYPE trainyard_jobs gauge'],
    ['a read-only API token', 200, async () => ({ Authorization: `Bearer ${tokens.read}` }), '# TYPE trainyard_http_requests_total counter'],
    ["a job's run-scoped token", 403, async () => ({ Authorization: `Bearer ${tokens.run}` }), 'this token is scoped to run'],
  ];

  it.each(ACCESS)('%s: %i', async (_, status, headers, contains) => {
    const response = await t.request('/metrics', { headers: await headers() });
    expect(response.status).toBe(status);
    expect(await response.text()).toContain(contains);
  });

  it('lets an allowed address range scrape without a credential, behind a trusted proxy', async () => {
    const proxied = await createTestApp({ metricsAllowFrom: '10.0.0.0/8, fd00::/8', trustProxy: true });
    const from = async (address: string) => (await proxied.request('/metrics', { headers: { 'X-Forwarded-For': `${address}, 10.9.9.9` } })).status;
    expect(await from('10.1.2.3')).toBe(200);
    expect(await from('fd00::7')).toBe(200);
    expect(await from('192.168.1.10')).toBe(401);
    expect(await from('not an address')).toBe(401);
  });

  it('takes the forwarded address only from a trusted proxy', async () => {
    const direct = await createTestApp({ metricsAllowFrom: '10.0.0.0/8' });
    expect((await direct.request('/metrics', { headers: { 'X-Forwarded-For': '10.1.2.3' } })).status).toBe(401);
  });
});

describe('scraping over a real socket', () => {
  let servers: ServerType[] = [];
  const listen = async (test: TestApp) => {
    const server = serve({ fetch: test.http.fetch, hostname: '127.0.0.1', port: 0 });
    servers.push(server);
    await new Promise((resolve) => server.once('listening', resolve));
    return `http://127.0.0.1:${(server.address() as { port: number }).port}/metrics`;
  };
  afterAll(async () => {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    servers = [];
  });

  it('answers the loopback address when 127.0.0.1/32 is allowed, and no other', async () => {
    const allowed = await fetch(await listen(await createTestApp({ metricsAllowFrom: '127.0.0.1/32' })), { redirect: 'manual' });
    expect(allowed.status).toBe(200);
    expect(await allowed.text()).toContain('trainyard_gpu_memory_total_bytes{gpu="0"');
    const elsewhere = await fetch(await listen(await createTestApp({ metricsAllowFrom: '10.0.0.0/8' })), { redirect: 'manual' });
    expect(elsewhere.status).toBe(401);
  });
});

describe('what /metrics says', () => {
  let uuids: string[];
  beforeAll(async () => {
    uuids = (await t.app.gpus.list()).devices.map((device) => device.uuid);
  });

  it('reports each GPU with its index, UUID and model, in base units', async () => {
    t.app.gpus.setLoad(uuids[0]!, 0.93, 60 * GIB);
    const { samples, contentType } = await scrape();
    expect(contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    const gpu0 = { gpu: '0', uuid: uuids[0]!, model: 'NVIDIA H100 80GB (simulated)' };
    expect(valuesOf(samples, 'trainyard_gpu_utilization_ratio', gpu0)).toEqual([0.93]);
    expect(valuesOf(samples, 'trainyard_gpu_memory_used_bytes', gpu0)).toEqual([60 * GIB]);
    expect(valuesOf(samples, 'trainyard_gpu_memory_total_bytes', gpu0)).toEqual([80 * GIB]);
    expect(valuesOf(samples, 'trainyard_gpu_power_limit_watts', gpu0)).toEqual([700]);
    expect(valuesOf(samples, 'trainyard_gpu_power_watts', gpu0)[0]).toBeGreaterThan(500);
    expect(valuesOf(samples, 'trainyard_gpu_temperature_celsius', gpu0)[0]).toBeGreaterThan(70);
    expect(valuesOf(samples, 'trainyard_gpu_utilization_ratio')).toEqual([0.93, 0, 0, 0]);
    expect(valuesOf(samples, 'trainyard_gpu_memory_total_bytes').length).toBe(4);
  });

  it('counts the jobs in each active state, the jobs holding each GPU, and the longest wait in the queue', async () => {
    const running = submit('training');
    t.app.jobs.move(running.id, 'queued', 'starting', 'placed', { gpuUuids: [uuids[1]!] });
    t.app.jobs.move(running.id, 'starting', 'running', 'started', { startedAt: t.clock.now });
    const starting = submit('two GPUs', 2);
    t.app.jobs.move(starting.id, 'queued', 'starting', 'placed', { gpuUuids: [uuids[2]!, uuids[3]!] });
    const finished = submit('done');
    t.app.jobs.move(finished.id, 'queued', 'cancelled', 'cancelled', { finishedAt: t.clock.now });
    const backingOff = submit('retry later');
    t.app.jobs.update(backingOff.id, { notBefore: t.clock.now + 3_600_000 });
    t.clock.advance(90_000);
    submit('waiting');
    t.clock.advance(30_000);

    const { samples } = await scrape();
    expect(valuesOf(samples, 'trainyard_jobs', { state: 'queued' })).toEqual([2]);
    expect(valuesOf(samples, 'trainyard_jobs', { state: 'starting' })).toEqual([1]);
    expect(valuesOf(samples, 'trainyard_jobs', { state: 'running' })).toEqual([1]);
    // The job in its back-off does not wait for the scheduler yet: the longest wait is the other one's.
    expect(valuesOf(samples, 'trainyard_job_queue_wait_seconds')).toEqual([30]);
    expect(valuesOf(samples, 'trainyard_gpu_allocated_jobs')).toEqual([0, 1, 1, 1]);
  });

  it('counts requests under their route pattern and status class, and times them', async () => {
    for (let n = 0; n < 3; n++) await t.get(`/api/v1/jobs/${1000 + n}`, ADMIN);
    await t.get('/no/such/page/42', ADMIN);
    const { samples } = await scrape();
    const missingJob = { method: 'GET', route: '/api/v1/jobs/:id', status: '4xx' };
    expect(valuesOf(samples, 'trainyard_http_requests_total', missingJob)).toEqual([3]);
    expect(valuesOf(samples, 'trainyard_http_requests_total', { route: 'unmatched', status: '4xx' })).toEqual([1]);
    expect(samples.some((sample) => sample.labels.route?.includes('1000'))).toBe(false);
    expect(valuesOf(samples, 'trainyard_http_request_duration_seconds_count', { method: 'GET', route: '/api/v1/jobs/:id' })).toEqual([3]);
    expect(valuesOf(samples, 'trainyard_http_request_duration_seconds_bucket', { route: '/api/v1/jobs/:id', le: '+Inf' })).toEqual([3]);
    expect(valuesOf(samples, 'trainyard_http_requests_total', { route: '/metrics', status: '2xx' })[0]).toBeGreaterThanOrEqual(2);
  });

  it("reports each live deployment's calls through the serving proxy", async () => {
    const served = await createTestApp();
    const admin = served.app.users.get(ADMIN.username);
    await registerVersion(served.app, admin, 'churn', { 'model.pkl': 'weights' });
    await deploy(served.app, admin, { name: 'churn-prod', model: 'models:/churn/1' });
    for (const [status, ms] of [[200, 12], [200, 80], [502, 30_000]] as const) served.app.servingMetrics.record('churn-prod', status, ms);
    served.app.servingMetrics.record('undeployed', 200, 5);
    const { samples } = await scrape(served);
    expect(valuesOf(samples, 'trainyard_serving_requests_total', { deployment: 'churn-prod', status: '2xx' })).toEqual([2]);
    expect(valuesOf(samples, 'trainyard_serving_requests_total', { deployment: 'churn-prod', status: '5xx' })).toEqual([1]);
    expect(valuesOf(samples, 'trainyard_serving_request_duration_seconds_bucket', { deployment: 'churn-prod', le: '0.1' })).toEqual([2]);
    expect(valuesOf(samples, 'trainyard_serving_request_duration_seconds_count', { deployment: 'churn-prod' })).toEqual([3]);
    expect(samples.filter((sample) => sample.labels.deployment === 'undeployed')).toEqual([]);
  });

  it("includes the process's own metrics, prefixed", async () => {
    const families = familiesOf((await scrape()).text);
    expect(families.get('trainyard_process_cpu_seconds_total')).toBe('counter');
    expect(families.get('trainyard_nodejs_heap_size_used_bytes')).toBe('gauge');
    expect(families.get('trainyard_nodejs_eventloop_lag_seconds')).toBe('gauge');
  });

  it('keeps each app its own metrics: two apps in one process count their own requests', async () => {
    const other = await createTestApp();
    await other.get('/api/v1/gpus', ADMIN);
    const { samples } = await scrape(other);
    expect(valuesOf(samples, 'trainyard_http_requests_total', { route: '/api/v1/gpus' })).toEqual([1]);
    expect(valuesOf(samples, 'trainyard_http_requests_total', { route: '/api/v1/jobs/:id' })).toEqual([]);
  });
});
