import type Dockerode from 'dockerode';
import { beforeAll, describe, expect, it } from 'vitest';
import { requireDocker } from '../helpers/environment.ts';
import { AWAIT_GO, createSchedulerWorld, type SchedulerWorld } from './scheduler-fixtures.ts';

// Throws in CI when no engine answers (the file fails); undefined locally (the file skips).
const docker = await requireDocker();

const GIB = 1024 ** 3;

describe.skipIf(!docker)('the scheduler on the real engine, with 4 simulated H100s', () => {
  let w: SchedulerWorld;

  beforeAll(async () => {
    w = await createSchedulerWorld(docker as Dockerode);
    return () => w.close();
  });

  it('runs two 2-GPU jobs at once on disjoint GPUs, holds a third with a reason and starts it when GPUs free', async () => {
    const first = w.submit(AWAIT_GO, { gpus: 2 });
    const second = w.submit(AWAIT_GO, { gpus: 2 });
    const third = w.submit(`echo "visible=$NVIDIA_VISIBLE_DEVICES job=$TRAINYARD_JOB_ID"`, { gpus: 2 });
    const [a, b] = [await w.until(first, 'running'), await w.until(second, 'running')];
    expect(a.gpuUuids).toHaveLength(2);
    expect(b.gpuUuids).toHaveLength(2);
    const all = (await w.app.gpus.list()).devices.map((gpu) => gpu.uuid);
    expect(new Set([...a.gpuUuids, ...b.gpuUuids])).toEqual(new Set(all));
    expect(w.app.jobs.byId(third.id)).toMatchObject({ state: 'queued', reason: expect.stringMatching(/2 GPUs.*0 free/) });
    // The simulated GPUs report the jobs' load while they hold them.
    expect((await w.app.gpus.list()).devices.every((gpu) => gpu.utilization! > 0.5 && gpu.memoryUsed! > 0)).toBe(true);

    w.release(first);
    expect(await w.until(first, 'succeeded')).toMatchObject({ exitCode: 0, reason: 'exit code 0' });
    const done = await w.until(third, 'succeeded');
    expect([...done.gpuUuids].sort()).toEqual([...a.gpuUuids].sort());
    expect(w.logOf(third, 'stdout')).toEqual([`visible=${done.gpuUuids.join(',')} job=${third.id}`]);

    w.release(second);
    await w.until(second, 'succeeded');
    const events = w.app.jobs.events(w.admin, third.id).map((event) => `${event.fromState ?? '-'}>${event.toState}`);
    expect(events).toEqual(['->queued', 'queued>starting', 'starting>running', 'running>succeeded']);
  });

  it('frees the GPUs it reported busy once the jobs are done', async () => {
    await expect.poll(async () => (await w.app.gpus.list()).devices.map((gpu) => [gpu.utilization, gpu.memoryUsed]), { timeout: 5_000 }).toEqual(
      Array.from({ length: 4 }, () => [0, 0]),
    );
  });

  it('copies stdout and stderr into the job log while the job runs, then its exit', async () => {
    const job = w.submit(`echo out-1; echo err-1 >&2; ${AWAIT_GO}; echo out-2; printf 'no newline'`);
    await w.until(job, (current) => current.state === 'running' && w.logOf(job, 'stderr').includes('err-1'));
    expect(w.logOf(job, 'stdout')).toEqual(['out-1']);
    w.release(job);
    await w.until(job, 'succeeded');
    expect(w.logOf(job, 'stdout')).toEqual(['out-1', 'out-2', 'no newline']);
    expect(w.logOf(job, 'stderr')).toEqual(['err-1']);
    expect(w.logOf(job, 'system')).toEqual(['running on no GPU (attempt 1)', 'exit code 0']);
  });

  it('records a nonzero exit as failed with its code, a zero exit as succeeded, and removes the containers', async () => {
    const failing = w.submit('echo about to fail; exit 3');
    const passing = w.submit('echo kept');
    expect(await w.until(failing, 'failed')).toMatchObject({ exitCode: 3, reason: 'exit code 3', attempts: 1, finishedAt: expect.any(Number) });
    const passed = await w.until(passing, 'succeeded');
    expect(passed).toMatchObject({ exitCode: 0, attempts: 1 });
    await expect.poll(() => (docker as Dockerode).getContainer(passed.containerId!).inspect().then(() => 'there', () => 'gone')).toBe('gone');
    expect(w.logOf(passing, 'stdout')).toEqual(['kept']);
  });

  it('packs GPU-memory slices onto one GPU and counts GPU-seconds: whole GPUs one each, slices by their share', async () => {
    const slices = [w.submit(`sleep 1; ${AWAIT_GO}`, { gpuMemory: '20GB' }), w.submit(`sleep 1; ${AWAIT_GO}`, { gpuMemory: '20GB' })];
    const whole = w.submit('sleep 1', { gpus: 2 });
    const running = await Promise.all(slices.map((job) => w.until(job, 'running')));
    expect(running[0]!.gpuUuids).toHaveLength(1);
    expect(running[1]!.gpuUuids).toEqual(running[0]!.gpuUuids);
    const [gpu] = (await w.app.gpus.list()).devices.filter((device) => device.uuid === running[0]!.gpuUuids[0]);
    expect(gpu!.memoryUsed).toBe(40 * GIB);
    for (const job of slices) w.release(job);
    for (const job of slices) {
      const done = await w.until(job, 'succeeded');
      // A quarter of an 80 GB GPU for a bit more than a second.
      expect(done.gpuSeconds).toBeGreaterThan(0.25 * 0.9);
      expect(done.gpuSeconds).toBeLessThan(0.25 * 10);
    }
    const wholeDone = await w.until(whole, 'succeeded');
    expect(wholeDone.gpuSeconds).toBeGreaterThan(2 * 0.9);
    expect(wholeDone.gpuSeconds).toBeLessThan(2 * 10);
  });

  it('fails a job that could never run here with the reason', async () => {
    const job = await w.until(w.submit('true', { gpus: 5 }), 'failed');
    expect(job.reason).toBe('impossible: asks for 5 GPUs, the host has 4');
    expect(job.attempts).toBe(0);
  });
});
