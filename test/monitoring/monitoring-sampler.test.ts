import { beforeAll, describe, expect, it } from 'vitest';
import { HttpError } from '../../src/lib/errors.ts';
import { createLog } from '../../src/lib/log.ts';
import { createContainerRuntime } from '../../src/runtime/container-runtime.ts';
import { createDockerClient } from '../../src/runtime/docker-client.ts';
import type { MonitorSample } from '../../src/monitoring/sample.ts';
import type { SeriesQuery } from '../../src/monitoring/series.ts';
import { createTestApp, type TestApp } from '../helpers/test-app.ts';
import { HOST, INTERVAL_MS, monitorOf, runningJob } from './monitoring-fixtures.ts';

const GIB = 1024 ** 3;
let t: TestApp;
let uuids: string[];

beforeAll(async () => {
  t = await createTestApp();
  uuids = (await t.app.gpus.list()).devices.map((device) => device.uuid);
});

describe('a round of the sampler', () => {
  it('reads every simulated GPU with the running jobs that hold it, stores the round and publishes it', async () => {
    const { monitoring } = monitorOf(t);
    const training = runningJob(t, [uuids[0]!, uuids[1]!]);
    const notebook = runningJob(t, [uuids[1]!]);
    t.app.gpus.setLoad(uuids[0]!, 0.75, 30 * GIB);
    const published: MonitorSample[] = [];
    const unsubscribe = t.app.bus.subscribe('monitoring.sample', (sample) => published.push(sample));
    t.clock.advance(60_000);
    const sample = await monitoring.sampleOnce();
    unsubscribe();

    expect(published).toEqual([sample]);
    expect(monitoring.latest()).toBe(sample);
    expect(sample).toMatchObject({ at: t.clock.now, intervalMs: INTERVAL_MS, host: HOST, containers: [], skipped: [] });
    expect(sample.gpus).toHaveLength(4);
    expect(sample.gpus[0]).toEqual({
      uuid: uuids[0],
      index: 0,
      name: 'NVIDIA H100 80GB (simulated)',
      utilization: 0.75,
      memoryUsed: 30 * GIB,
      memoryTotal: 80 * GIB,
      temperature: 66,
      powerDraw: 490,
      powerLimit: 700,
      holders: [{ unitUuid: uuids[0], jobId: training.id, deploymentId: null }],
    });
    expect(sample.gpus[1]!.holders).toEqual([
      { unitUuid: uuids[1], jobId: training.id, deploymentId: null },
      { unitUuid: uuids[1], jobId: notebook.id, deploymentId: null },
    ]);
    expect(sample.gpus[2]!.holders).toEqual([]);
    const stored = monitoring.series({ subject: { kind: 'gpu', uuid: uuids[0]! }, from: t.clock.now - 60_000, to: t.clock.now });
    expect(stored).toMatchObject({ resolutionMs: INTERVAL_MS, at: [t.clock.now], fields: { utilization: [0.75], memoryUsed: [30 * GIB] } });
    expect(monitoring.series({ subject: { kind: 'host' }, from: t.clock.now, to: t.clock.now }).fields.diskUsed).toEqual([HOST.diskUsed]);
    for (const job of [training, notebook]) t.app.jobs.move(job.id, 'running', 'succeeded', 'done', { finishedAt: t.clock.now });
  });

  it.each([
    ['the first round covers one interval', [0], [INTERVAL_MS]],
    ['a later one the time since the round before', [0, 7_000], [INTERVAL_MS, 7_000]],
    ['at most twice the interval after a pause', [0, 60_000], [INTERVAL_MS, 2 * INTERVAL_MS]],
  ])('%s', async (_name, steps, intervals) => {
    const { monitoring } = monitorOf(t);
    const covered: number[] = [];
    for (const step of steps) {
      t.clock.advance(step);
      covered.push((await monitoring.sampleOnce()).intervalMs);
    }
    expect(covered).toEqual(intervals);
  });

  it("reads this host's CPU, memory and the data directory's disk through the app's own sampler", async () => {
    t.clock.advance(INTERVAL_MS);
    const { host, skipped } = await t.app.monitoring.sampleOnce();
    expect(skipped).toEqual([]);
    expect(host!.cpu).toBeGreaterThanOrEqual(0);
    expect(host!.cpu).toBeLessThanOrEqual(1);
    expect(host!.memoryUsed).toBeGreaterThan(0);
    expect(host!.memoryUsed).toBeLessThan(host!.memoryTotal);
    expect(host!.diskUsed).toBeGreaterThan(0);
    expect(host!.diskUsed).toBeLessThan(host!.diskTotal);
    expect(host!.load1).toBeGreaterThanOrEqual(0);
  });

  it('takes a round every interval once started, and none after stop', async () => {
    const { monitoring } = monitorOf(t, { intervalMs: 20 });
    let rounds = 0;
    const unsubscribe = t.app.bus.subscribe('monitoring.sample', () => rounds++);
    monitoring.start();
    await expect.poll(() => rounds, { timeout: 5_000, interval: 10 }).toBeGreaterThanOrEqual(3);
    await monitoring.stop();
    const stoppedAt = rounds;
    await new Promise((resolve) => setTimeout(resolve, 100));
    unsubscribe();
    expect(rounds).toBe(stoppedAt);
  });
});

describe('the sampler keeps going', () => {
  it('when the database cannot take the round (a full disk): it says so once, publishes the round, and stores again once there is room', async () => {
    const { monitoring, warnings } = monitorOf(t);
    const client = t.app.db.$client;
    const room = client.pragma('max_page_count', { simple: true }) as number;
    client.pragma(`max_page_count = ${client.pragma('page_count', { simple: true })}`);
    const failed: MonitorSample[] = [];
    try {
      for (let round = 0; round < 500 && failed.length < 3; round++) {
        t.clock.advance(INTERVAL_MS);
        const sample = await monitoring.sampleOnce();
        if (sample.skipped.length > 0) failed.push(sample);
      }
    } finally {
      client.pragma(`max_page_count = ${room}`);
    }
    expect(failed).toHaveLength(3);
    for (const sample of failed) {
      expect(sample.skipped).toEqual(['storing the sample: database or disk is full']);
      expect(sample.gpus).toHaveLength(4);
    }
    expect(warnings()).toEqual(['storing the sample: database or disk is full']);

    t.clock.advance(INTERVAL_MS);
    const stored = await monitoring.sampleOnce();
    expect(stored.skipped).toEqual([]);
    expect(monitoring.series({ subject: { kind: 'host' }, from: stored.at, to: stored.at }).at).toEqual([stored.at]);
  });

  it('when a listener of monitoring.sample throws', async () => {
    const { monitoring } = monitorOf(t);
    const unsubscribe = t.app.bus.subscribe('monitoring.sample', () => {
      throw new Error('a broken listener');
    });
    t.clock.advance(INTERVAL_MS);
    const sample = await monitoring.sampleOnce();
    unsubscribe();
    expect(monitoring.latest()).toBe(sample);
  });

  it('when the Docker engine is down: one line names every job whose container went unread, the GPUs and host are kept', async () => {
    const engineDown = createContainerRuntime({ docker: createDockerClient({ socketPath: '/nonexistent.sock' }), instanceId: 'test', log: createLog('silent') });
    const { monitoring } = monitorOf(t, { containers: () => engineDown });
    const jobs = [runningJob(t, [], 'a'.repeat(64)), runningJob(t, [uuids[2]!], 'b'.repeat(64))];
    t.clock.advance(INTERVAL_MS);
    const sample = await monitoring.sampleOnce();
    for (const job of jobs) t.app.jobs.move(job.id, 'running', 'lost', 'test over', { finishedAt: t.clock.now });
    expect(sample).toMatchObject({ containers: [], host: HOST });
    expect(sample.gpus).toHaveLength(4);
    expect(sample.skipped).toEqual([expect.stringMatching(new RegExp(`^docker stats of jobs ${jobs[0]!.id}, ${jobs[1]!.id}: .*/nonexistent\\.sock`))]);
  });

  it('when the host cannot be read: the host is null, the GPUs are kept', async () => {
    const { monitoring } = monitorOf(t, { readHost: () => Promise.reject(new Error('/proc is not mounted')) });
    t.clock.advance(INTERVAL_MS);
    const sample = await monitoring.sampleOnce();
    expect(sample).toMatchObject({ host: null, skipped: ['host: /proc is not mounted'] });
    expect(sample.gpus).toHaveLength(4);
  });

  it('when the host does not answer in time', async () => {
    const { monitoring } = monitorOf(t, { readHost: () => new Promise(() => {}), readTimeoutMs: 50 });
    t.clock.advance(INTERVAL_MS);
    expect((await monitoring.sampleOnce()).skipped).toEqual(['host: the host gave no answer within 0.05 s']);
  });
});

describe('a chart query', () => {
  const now = () => t.clock.now;
  it.each<[string, () => unknown, RegExp]>([
    ['with no subject', () => ({ from: now() - 1000, to: now() }), /names a GPU by uuid, the host, a job by id or a deployment by id/],
    ['of an unknown kind of subject', () => ({ subject: { kind: 'rack' }, from: now() - 1000, to: now() }), /names a GPU by uuid/],
    ['of a job without a whole id', () => ({ subject: { kind: 'job', jobId: 1.5 }, from: now() - 1000, to: now() }), /a job by id/],
    ['with from after to', () => ({ subject: { kind: 'host' }, from: now(), to: now() - 1 }), /^from is after to$/],
    ['with a time that is not a number', () => ({ subject: { kind: 'host' }, from: 'yesterday', to: now() }), /^from and to are times in ms since the epoch$/],
    ['with maxPoints 0', () => ({ subject: { kind: 'host' }, from: now() - 1000, to: now(), maxPoints: 0 }), /^maxPoints is a whole number from 1 to 10000$/],
    ['with too many points', () => ({ subject: { kind: 'host' }, from: now() - 1000, to: now(), maxPoints: 1e6 }), /^maxPoints is a whole number/],
  ])('%s is a 400 that says what is wrong', (_name, query, message) => {
    const { monitoring } = monitorOf(t);
    let error: unknown;
    try {
      monitoring.series(query() as SeriesQuery);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(HttpError);
    expect(error).toMatchObject({ status: 400, message: expect.stringMatching(message) });
  });
});
