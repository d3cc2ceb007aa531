import type Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNvidiaInventory } from '../../src/gpu/nvidia-inventory.ts';
import { createNvidiaSmiRunner } from '../../src/gpu/nvidia-smi-runner.ts';
import { createLog } from '../../src/lib/log.ts';
import type { ContainerSource } from '../../src/monitoring/container-readings.ts';
import type { Monitoring } from '../../src/monitoring/monitoring.ts';
import { requireDocker } from '../helpers/environment.ts';
import { createTestApp, type TestApp } from '../helpers/test-app.ts';
import { requireImage, shellJob } from '../runtime/runtime-fixtures.ts';
import { INTERVAL_MS, fakeNvidiaSmi, monitorOf, runningJob } from './monitoring-fixtures.ts';

// Throws in CI when no engine answers (the file fails); undefined locally (the file skips).
const docker = await requireDocker();

const GPU = 'GPU-a33f483a-0499-6e2f-9479-327f84b7c863';
const MIB = 1024 ** 2;
const HOST_PROCESS = 999_999_999;

describe.skipIf(!docker)('the sampler reading job containers on the real engine', () => {
  let t: TestApp;
  let smi: ReturnType<typeof fakeNvidiaSmi>;
  let monitoring: Monitoring;
  let busy: { id: string; jobId: number };
  let idle: { id: string; jobId: number };
  let topCalls = 0;
  const started: string[] = [];

  async function startJob(script: string, gpuUuids: string[], limits = {}) {
    const { id } = await t.app.runtime.start(shellJob(script, limits));
    started.push(id);
    return { id, jobId: runningJob(t, gpuUuids, id).id };
  }

  async function round() {
    t.clock.advance(INTERVAL_MS);
    return monitoring.sampleOnce();
  }

  beforeAll(async () => {
    await requireImage(docker as Dockerode);
    t = await createTestApp();
    smi = fakeNvidiaSmi();
    busy = await startJob('while true; do :; done', [GPU], { cpus: 0.5 });
    idle = await startJob('sleep 600', []);
    const now = () => t.clock.now;
    const gpus = createNvidiaInventory({ run: createNvidiaSmiRunner({ binary: smi.binary, timeoutMs: 2_000 }), log: createLog('silent'), now });
    // The real runtime, counted: the test checks how often the engine is asked for a container's processes.
    const containers = (): ContainerSource => ({
      usageOf: (id, timeoutMs) => t.app.runtime.usageOf(id, timeoutMs),
      processIds: (id, timeoutMs) => {
        topCalls++;
        return t.app.runtime.processIds(id, timeoutMs);
      },
    });
    ({ monitoring } = monitorOf(t, { gpus, containers }));
  });

  afterAll(async () => {
    await Promise.all(started.map((id) => t.app.runtime.remove(id)));
    smi.cleanup();
  });

  it("reads each container's CPU and memory, and the GPU memory of the processes that run in it", async () => {
    const [shell] = await t.app.runtime.processIds(busy.id);
    smi.answer({ 'compute-apps': `${GPU}, ${shell}, 2048\n${GPU}, ${HOST_PROCESS}, 512\n` });
    const first = await round();
    expect(first.skipped).toEqual([]);
    // Docker's counters need two readings for a rate: the first round has none.
    expect(first.containers).toEqual([
      { jobId: busy.jobId, deploymentId: null, cpu: null, memoryBytes: expect.any(Number), gpuMemoryBytes: 2048 * MIB },
      { jobId: idle.jobId, deploymentId: null, cpu: null, memoryBytes: expect.any(Number), gpuMemoryBytes: 0 },
    ]);
    expect(first.containers.every((container) => container.memoryBytes! > 0)).toBe(true);

    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const second = await round();
    const [busyReading, idleReading] = second.containers;
    expect(busyReading!.cpu).toBeGreaterThan(0.2);
    expect(busyReading!.cpu).toBeLessThan(0.8);
    expect(idleReading!.cpu).toBeLessThan(0.1);
    expect(monitoring.series({ subject: { kind: 'job', jobId: busy.jobId }, from: first.at, to: second.at }).fields.gpuMemoryBytes).toEqual([2048 * MIB, 2048 * MIB]);
  });

  it("asks the engine for containers' processes only when a GPU process of no known container appears", async () => {
    await round();
    const before = topCalls;
    await round();
    await round();
    // The host's own GPU process stays unknown, and is not asked about again at every round.
    expect(topCalls).toBe(before);

    const [shell] = await t.app.runtime.processIds(busy.id);
    smi.answer({ 'compute-apps': `${GPU}, ${shell}, 2048\n${GPU}, ${HOST_PROCESS}, 512\n${GPU}, ${HOST_PROCESS + 1}, 256\n` });
    await round();
    expect(topCalls).toBe(before + 1);
    await round();
    expect(topCalls).toBe(before + 1);
  });

  it('leaves out a container whose stats fail, says which job it was, and keeps the others', async () => {
    const gone = runningJob(t, [], 'f'.repeat(64));
    const sample = await round();
    t.app.jobs.move(gone.id, 'running', 'lost', 'test over', { finishedAt: t.clock.now });
    expect(sample.containers.map((container) => container.jobId)).toEqual([busy.jobId, idle.jobId]);
    expect(sample.skipped).toEqual([expect.stringMatching(new RegExp(`^docker stats of job ${gone.id}: .*no such container`, 'i'))]);
    expect(sample.gpus).toHaveLength(8);
  });
});
