import { setTimeout as sleep } from 'node:timers/promises';
import type Dockerode from 'dockerode';
import { beforeAll, describe, expect, it } from 'vitest';
import { requireDocker } from '../helpers/environment.ts';
import { AWAIT_GO, createSchedulerWorld, TEST_TIMINGS, type SchedulerWorld } from './scheduler-fixtures.ts';

// Throws in CI when no engine answers (the file fails); undefined locally (the file skips).
const docker = await requireDocker();

describe.skipIf(!docker)('stopping jobs: cancel, time limits, retries, preemption', () => {
  let w: SchedulerWorld;
  const transitions = (job: { id: number }) =>
    w.app.jobs.events(w.admin, job.id).map((event) => `${event.fromState ?? '-'}>${event.toState}: ${event.reason}`);

  beforeAll(async () => {
    w = await createSchedulerWorld(docker as Dockerode);
    return () => w.close();
  });

  it('cancels a running job with SIGTERM, which the job sees', async () => {
    const job = w.submit(`trap 'echo got SIGTERM; exit 143' TERM; echo ready; while true; do sleep 0.1; done`, { gpus: 1 });
    await w.until(job, (current) => current.state === 'running' && w.logOf(job, 'stdout').includes('ready'));
    expect(w.app.jobs.cancel(w.admin, job.id)).toMatchObject({ state: 'running', cancelRequestedAt: expect.any(Number) });
    const done = await w.until(job, 'cancelled');
    expect(done).toMatchObject({ exitCode: 143, reason: 'cancelled; the container stopped with exit code 143', finishedAt: expect.any(Number) });
    expect(w.logOf(job, 'stdout')).toEqual(['ready', 'got SIGTERM']);
  });

  it('stops a job at its time limit as timed out', async () => {
    const job = w.submit('echo started; sleep 60', { timeLimit: 5 });
    await w.until(job, (current) => current.state === 'running' && w.logOf(job, 'stdout').includes('started'));
    await sleep(300);
    expect(w.app.jobs.byId(job.id)!.state).toBe('running');
    w.t.clock.advance(5_000);
    expect(await w.until(job, 'timed_out')).toMatchObject({ reason: 'stopped at its time limit of 5 s', exitCode: expect.any(Number) });
  });

  it('retries a failing job after a back-off that doubles, then fails it for good', async () => {
    const base = TEST_TIMINGS.retryBaseMs;
    const job = w.submit('echo attempt; exit 1', { retries: 2 });
    const first = await w.until(job, (current) => current.state === 'queued' && current.attempts === 1);
    expect(first).toMatchObject({ exitCode: 1, notBefore: w.t.clock.now + base, reason: 'exit code 1; retry 1 of 2 in 1 s', containerId: null, gpuUuids: [] });
    await sleep(400);
    expect(w.app.jobs.byId(job.id)).toMatchObject({ state: 'queued', attempts: 1 });

    w.t.clock.advance(base);
    const second = await w.until(job, (current) => current.state === 'queued' && current.attempts === 2);
    expect(second).toMatchObject({ notBefore: w.t.clock.now + 2 * base, reason: 'exit code 1; retry 2 of 2 in 2 s' });

    w.t.clock.advance(2 * base);
    expect(await w.until(job, 'failed')).toMatchObject({ attempts: 3, exitCode: 1, reason: 'exit code 1' });
    expect(w.logOf(job, 'stdout')).toEqual(['attempt', 'attempt', 'attempt']);
  });

  it('preempts a preemptible lower-priority job for a higher one, requeues it, and runs it again after', async () => {
    const low = w.submit(`echo low; ${AWAIT_GO}`, { gpus: 4, preemptible: true, priority: -1 });
    await w.until(low, 'running');
    const high = w.submit('echo high', { gpus: 4, priority: 5 });
    expect(await w.until(high, 'succeeded')).toMatchObject({ attempts: 1 });
    const again = await w.until(low, (current) => current.state === 'running' && current.attempts === 2);
    expect(transitions(low)).toContain(`running>queued: preempted by job ${high.id}`);
    expect(again.gpuSeconds).toBeGreaterThan(0);
    w.release(low);
    await w.until(low, 'succeeded');
    expect(w.logOf(low, 'stdout')).toEqual(['low', 'low']);
  });
});
