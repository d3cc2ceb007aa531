import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { beforeAll, describe, expect, it } from 'vitest';
import type { GpuInventory } from '../../src/gpu/gpu-types.ts';
import type { JobTracking } from '../../src/scheduler/job-tracking.ts';
import { createLog } from '../../src/lib/log.ts';
import { createContainerRuntime, type ContainerRuntime } from '../../src/runtime/container-runtime.ts';
import { createDockerClient } from '../../src/runtime/docker-client.ts';
import { readInstanceId } from '../../src/scheduler/instance-id.ts';
import type { Scheduler } from '../../src/scheduler/scheduler.ts';
import { requireDocker } from '../helpers/environment.ts';
import { AWAIT_GO, createSchedulerWorld, schedulerFor, type SchedulerWorld } from './scheduler-fixtures.ts';

// Throws in CI when no engine answers (the file fails); undefined locally (the file skips).
const docker = await requireDocker();

const MISSING_SOCKET = '/nonexistent/docker.sock';

/** One real-looking GPU: the runtime then asks Docker for the nvidia driver, which this engine does not have. */
const oneRealGpu: GpuInventory = {
  kind: 'nvidia',
  list: async () => ({
    kind: 'nvidia',
    sampledAt: Date.now(),
    processes: [],
    devices: [
      {
        index: 0,
        uuid: 'GPU-4b3c8a51-7d2e-4f10-9a6b-1c2d3e4f5a6b',
        name: 'NVIDIA H100 80GB HBM3',
        memoryTotal: 80 * 1024 ** 3,
        memoryUsed: 0,
        memoryFree: 80 * 1024 ** 3,
        utilization: 0,
        temperature: 30,
        powerDraw: 70,
        powerLimit: 700,
        migMode: 'disabled',
        migDevices: [],
      },
    ],
  }),
  setLoad() {},
};

describe.skipIf(!docker)('jobs and the engine: quotas, images, mounts, GPUs Docker refuses', () => {
  let w: SchedulerWorld;

  beforeAll(async () => {
    w = await createSchedulerWorld(docker as Dockerode, { gpuQuotaPerUser: 2 });
    return () => w.close();
  });

  it("holds a user's job past their GPU quota with the reason, and starts it once they are under it", async () => {
    const first = w.submit(AWAIT_GO, { gpus: 2 });
    const second = w.submit('true', { gpus: 2 });
    await w.until(first, 'running');
    await w.until(second, (current) => current.reason === 'user quota: 2 of 2 GPUs');
    expect(w.app.jobs.byId(second.id)!.state).toBe('queued');
    w.release(first);
    await w.until(second, 'succeeded');
  });

  it('fails a job whose image is not on the engine, naming the image', async () => {
    const job = await w.until(w.submit('true', { image: 'trainyard-test/no-such-image:1' }), 'failed');
    expect(job.reason).toMatch(/^image "trainyard-test\/no-such-image:1" is not on the Docker engine/);
    expect(job).toMatchObject({ attempts: 0, containerId: null });
    expect(w.logOf(job, 'system')).toEqual([job.reason]);
  });

  it('mounts the code snapshot read-only at /workspace (the working directory) and the job outputs read-write', async () => {
    const snapshotId = 'a'.repeat(32);
    const snapshot = join(w.app.config.dataDir, 'snapshots', snapshotId);
    mkdirSync(snapshot, { recursive: true });
    writeFileSync(join(snapshot, 'hello.txt'), 'hello from the snapshot\n');
    const script = 'pwd; cat hello.txt; touch /workspace/new 2>/dev/null || echo read-only; echo result > /outputs/result.txt';
    const job = await w.until(w.submit(script, { snapshotId }), 'succeeded');
    expect(w.logOf(job, 'stdout')).toEqual(['/workspace', 'hello from the snapshot', 'read-only']);
    expect(readFileSync(join(w.app.config.dataDir, 'outputs', String(job.id), 'result.txt'), 'utf8')).toBe('result\n');
  });

  it('fails a job whose snapshot is gone before Docker is asked', async () => {
    const job = await w.until(w.submit('true', { snapshotId: 'b'.repeat(32) }), 'failed');
    expect(job.reason).toBe(`the code snapshot ${'b'.repeat(32)} is not on this host any more`);
  });

  it("fails a job on a GPU Docker cannot give with Docker's words, and leaves no container behind", async () => {
    const scheduler = schedulerFor(w.app, { gpus: oneRealGpu });
    await scheduler.start();
    try {
      // The world's scheduler places on the simulated GPUs: it must not take this job first.
      await w.scheduler.stop();
      const job = await w.until(w.submit('true', { gpus: 1 }), 'failed');
      expect(job.reason).toMatch(/^Docker could not start the container: .*could not select device driver "nvidia"/);
      const left = await (docker as Dockerode).listContainers({ all: true, filters: { label: [`dev.trainyard.instance=${readInstanceId(w.app.config.dataDir)}`] } });
      expect(left).toEqual([]);
    } finally {
      await scheduler.stop();
    }
  });
});

describe.skipIf(!docker)('MLflow for jobs', () => {
  it('gives the container the environment of a run prepared before the start, records the run and ends it after', async () => {
    const w = await createSchedulerWorld(docker as Dockerode);
    await w.scheduler.stop();
    const finished: Array<[number, string, string | null]> = [];
    const tracking: JobTracking = {
      prepare: (job) => ({ mlflowRunId: `run-of-${job.id}`, env: { MLFLOW_RUN_ID: `run-of-${job.id}`, MLFLOW_TRACKING_URI: 'http://host.docker.internal:8700' } }),
      finish: (job) => void finished.push([job.id, job.state, job.mlflowRunId]),
    };
    const scheduler = schedulerFor(w.app, { tracking });
    await scheduler.start();
    try {
      const job = await w.until(w.submit('echo "$MLFLOW_RUN_ID at $MLFLOW_TRACKING_URI"; exit 2'), 'failed');
      expect(job.mlflowRunId).toBe(`run-of-${job.id}`);
      expect(w.logOf(job, 'stdout')).toEqual([`run-of-${job.id} at http://host.docker.internal:8700`]);
      expect(finished).toEqual([[job.id, 'failed', `run-of-${job.id}`]]);
    } finally {
      await scheduler.stop();
      await w.close();
    }
  });
});

describe.skipIf(!docker)('an engine that is down', () => {
  let w: SchedulerWorld;
  let scheduler: Scheduler;
  const real = () => w.app.runtime;
  const down = () => createContainerRuntime({ docker: createDockerClient({ socketPath: MISSING_SOCKET }), instanceId: readInstanceId(w.app.config.dataDir), log: createLog('silent') });
  let current: () => ContainerRuntime;
  // The scheduler keeps the runtime it was given: this one passes each call to whichever engine the test picks.
  const switchable = new Proxy({} as ContainerRuntime, { get: (_target, name: keyof ContainerRuntime) => (...args: never[]) => (current()[name] as (...a: never[]) => unknown)(...args) });

  beforeAll(async () => {
    w = await createSchedulerWorld(docker as Dockerode);
    await w.scheduler.stop();
    current = down;
    scheduler = schedulerFor(w.app, { runtime: () => switchable });
    await scheduler.start();
    return async () => {
      await scheduler.stop();
      await w.close();
    };
  });

  it('keeps jobs queued with the reason, without an event per attempt, and runs them once the engine is back', async () => {
    const job = w.submit(`echo ran; ${AWAIT_GO}`);
    const waiting = await w.until(job, (current) => current.reason.startsWith('Docker is not reachable'));
    expect(waiting.state).toBe('queued');
    expect(waiting.reason).toBe(`Docker is not reachable: the Docker engine at ${MISSING_SOCKET} is unavailable (ENOENT: no socket there: is dockerd running?)`);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(w.app.jobs.byId(job.id)!.state).toBe('queued');
    expect(w.app.jobs.events(w.admin, job.id).length).toBeLessThanOrEqual(3);

    current = real;
    await w.until(job, (current) => current.state === 'running' && w.logOf(job, 'stdout').includes('ran'));
    w.release(job);
    await w.until(job, 'succeeded');
  });
});
