import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createJobSystemMetrics } from '../../src/monitoring/job-system-metrics.ts';
import { jobSubmissionSchema } from '../../src/scheduler/job-request.ts';
import { capturedLog } from '../gpu/gpu-fixtures.ts';
import { MEMBER, createTestApp, type TestApp } from '../helpers/test-app.ts';

const GIB = 1024 ** 3;
let t: TestApp;
let uuids: string[];

const submit = (gpus: number) =>
  t.app.jobs.submit(t.app.users.get(MEMBER.username), jobSubmissionSchema.parse({ project: 'default', name: 'train', image: 'busybox:1', command: ['true'], gpus }));

/** A job of the member's, moved to running on `gpuUuids` with a run of its own (as the scheduler would). */
function runningJob(gpuUuids: string[], runId: string | null = newRun()) {
  const job = submit(gpuUuids.length);
  t.app.jobs.move(job.id, 'queued', 'starting', 'placed', { gpuUuids });
  return { job: t.app.jobs.move(job.id, 'starting', 'running', 'started', { startedAt: t.clock.now, mlflowRunId: runId })!, runId };
}

function newRun(): string {
  return t.app.tracking.runs.create({ user: t.app.users.get(MEMBER.username) }, { experiment_id: '0', start_time: t.clock.now }).run.info.run_id;
}

async function history(runId: string, key: string) {
  const query = new URLSearchParams({ run_id: runId, metric_key: key });
  const { status, text } = await t.get(`/api/2.0/mlflow/metrics/get-history?${query}`, MEMBER);
  expect(status, text).toBe(200);
  const { metrics = [] } = JSON.parse(text) as { metrics?: Array<{ value: number; step: number; timestamp: number }> };
  return metrics.map(({ value, step, timestamp }) => ({ value, step, timestamp }));
}

const recorder = (log = capturedLog().log) =>
  createJobSystemMetrics({ gpus: t.app.gpus, jobs: t.app.jobs, users: t.app.users, tracking: t.app.tracking, log }, 20);

beforeAll(async () => {
  t = await createTestApp();
  uuids = (await t.app.gpus.list()).devices.map((device) => device.uuid);
});

describe("a running job's system metrics", () => {
  it("land in its MLflow run under MLflow's names, numbered by the job's GPU list, one step per sample", async () => {
    const { runId } = runningJob([uuids[2]!, uuids[0]!]);
    t.app.gpus.setLoad(uuids[2]!, 0.75, 30 * GIB);
    const metrics = recorder();
    const first = t.clock.now;
    await metrics.record();
    t.clock.advance(10_000);
    t.app.gpus.setLoad(uuids[2]!, 0.5, 20 * GIB);
    await metrics.record();

    expect(await history(runId!, 'system/gpu_0_utilization_percentage')).toEqual([
      { value: 75, step: 0, timestamp: first },
      { value: 50, step: 1, timestamp: first + 10_000 },
    ]);
    expect((await history(runId!, 'system/gpu_0_memory_usage_megabytes')).map((point) => point.value)).toEqual([32212.3, 21474.8]);
    expect((await history(runId!, 'system/gpu_0_memory_usage_percentage')).map((point) => point.value)).toEqual([37.5, 25]);
    expect((await history(runId!, 'system/gpu_1_utilization_percentage')).map((point) => point.value)).toEqual([0, 0]);
    expect((await history(runId!, 'system/gpu_1_power_usage_watts')).map((point) => point.value)).toEqual([70, 70]);
    expect(await history(runId!, 'system/gpu_2_utilization_percentage')).toEqual([]);
  });

  it('are written only for running jobs that hold GPUs and have a run', async () => {
    const { log, entries } = capturedLog();
    const cpuOnly = runningJob([]);
    runningJob([uuids[3]!], null);
    const requeuedRun = newRun();
    const requeued = submit(1);
    t.app.jobs.update(requeued.id, { mlflowRunId: requeuedRun, gpuUuids: [uuids[3]!] });
    await recorder(log).record();
    expect(await history(cpuOnly.runId!, 'system/gpu_0_utilization_percentage')).toEqual([]);
    expect(await history(requeuedRun, 'system/gpu_0_utilization_percentage')).toEqual([]);
    expect(entries()).toEqual([]);
  });

  it('say once that a run cannot take them, and go on with the other jobs', async () => {
    const { log, entries } = capturedLog();
    const metrics = recorder(log);
    const broken = runningJob([uuids[1]!], 'f'.repeat(32));
    const healthy = runningJob([uuids[1]!]);
    await metrics.record();
    await metrics.record();
    const warnings = entries().filter((entry) => entry.msg === 'could not write the system metrics of a job to its run');
    expect(warnings).toMatchObject([{ job: broken.job.id, run: 'f'.repeat(32) }]);
    expect((await history(healthy.runId!, 'system/gpu_0_utilization_percentage')).map((point) => point.step)).toEqual([0, 1]);
  });

  it('are taken by the timer every interval until it stops', async () => {
    const { runId } = runningJob([uuids[0]!]);
    const metrics = recorder();
    metrics.start();
    const points = async () => (await history(runId!, 'system/gpu_0_utilization_percentage')).length;
    await vi.waitFor(async () => expect(await points()).toBeGreaterThanOrEqual(2), { timeout: 5_000 });
    await metrics.stop();
    const stopped = await points();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await points()).toBe(stopped);
  });
});
