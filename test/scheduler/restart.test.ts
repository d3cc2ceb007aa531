import type Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { readInstanceId } from '../../src/scheduler/instance-id.ts';
import { jobContainerName } from '../../src/scheduler/job-container.ts';
import type { JobRecord } from '../../src/scheduler/jobs.ts';
import { VANISHED_WHILE_DOWN } from '../../src/scheduler/reconcile.ts';
import type { Scheduler } from '../../src/scheduler/scheduler.ts';
import { requireDocker } from '../helpers/environment.ts';
import { ADMIN } from '../helpers/test-app.ts';
import { TEST_IMAGE } from '../runtime/runtime-fixtures.ts';
import { AWAIT_GO, createSchedulerWorld, jobHelpers, schedulerFor, type SchedulerWorld } from './scheduler-fixtures.ts';

// Throws in CI when no engine answers (the file fails); undefined locally (the file skips).
const docker = await requireDocker();

const stateOf = (engine: Dockerode, id: string) =>
  engine
    .getContainer(id)
    .inspect()
    .then((info) => info.State.Status, () => 'gone');

describe.skipIf(!docker)('a restart of the appliance while jobs run', () => {
  const engine = docker as Dockerode;
  let before: SchedulerWorld;
  let after: App;
  let scheduler: Scheduler;
  let helpers: ReturnType<typeof jobHelpers>;
  const jobs: Record<'adopted' | 'exitedWhileDown' | 'vanished' | 'neverStarted', JobRecord> = {} as never;
  let orphanId: string;

  beforeAll(async () => {
    before = await createSchedulerWorld(engine);
    jobs.adopted = before.submit(`echo before; ${AWAIT_GO}; echo after; exit 7`);
    jobs.exitedWhileDown = before.submit(`echo started; ${AWAIT_GO}; exit 5`, { gpus: 2 });
    jobs.vanished = before.submit(AWAIT_GO, { gpus: 1 });
    const printed = (job: JobRecord) => (current: JobRecord) => current.state === 'running' && before.logOf(job, 'stdout').length > 0;
    jobs.adopted = await before.until(jobs.adopted, printed(jobs.adopted));
    jobs.exitedWhileDown = await before.until(jobs.exitedWhileDown, printed(jobs.exitedWhileDown));
    jobs.vanished = await before.until(jobs.vanished, 'running');

    // The appliance stops (or dies) without stopping the containers.
    await before.scheduler.stop();
    // A job placed just before the stop, whose container was never made.
    const placed = before.submit('echo placed before the stop');
    jobs.neverStarted = before.app.jobs.move(placed.id, 'queued', 'starting', 'placed on no GPU', {
      containerId: jobContainerName(placed, 1, readInstanceId(before.app.config.dataDir)),
    })!;
    const runtime = before.app.runtime;
    before.app.close();

    // While it is down: one job ends, one container is removed by hand, one container of ours belongs to no job.
    before.release(jobs.exitedWhileDown);
    expect((await runtime.wait(jobs.exitedWhileDown.containerId!)).exitCode).toBe(5);
    await engine.getContainer(jobs.vanished.containerId!).remove({ force: true });
    orphanId = (await runtime.start({ kind: 'job', id: `999-1-${readInstanceId(before.app.config.dataDir)}`, project: '1', image: TEST_IMAGE, command: ['sleep', '60'] })).id;

    after = createApp(loadConfig({ dataDir: before.app.config.dataDir, logLevel: 'silent', gpus: 'fake:4xH100-80GB' }, {}), { now: () => before.t.clock.now });
    helpers = jobHelpers(after, after.users.get(ADMIN.username));
    scheduler = schedulerFor(after);
    await scheduler.start();
  });

  afterAll(async () => {
    await scheduler?.stop();
    after?.close();
    // Removes the containers of both lives (one instance id: it lives in the data dir) and the data.
    await before?.close();
  });

  it('adopts a container that still runs: its log resumes without repeats and its real exit is recorded', async () => {
    expect(after.jobs.byId(jobs.adopted.id)).toMatchObject({ state: 'running', containerId: jobs.adopted.containerId });
    helpers.release(jobs.adopted);
    expect(await helpers.until(jobs.adopted, 'failed')).toMatchObject({ exitCode: 7, reason: 'exit code 7' });
    expect(helpers.logOf(jobs.adopted, 'stdout')).toEqual(['before', 'after']);
    await expect.poll(() => stateOf(engine, jobs.adopted.containerId!)).toBe('gone');
  });

  it('records the real exit of a container that ended while the appliance was down', async () => {
    const job = await helpers.until(jobs.exitedWhileDown, 'failed');
    expect(job).toMatchObject({ exitCode: 5, reason: 'exit code 5', attempts: 1 });
    expect(job.gpuSeconds).toBeGreaterThan(0);
    expect(helpers.logOf(job, 'stdout')).toEqual(['started']);
  });

  it('marks a job whose container vanished while the appliance was down as lost', async () => {
    expect(after.jobs.byId(jobs.vanished.id)).toMatchObject({ state: 'lost', reason: VANISHED_WHILE_DOWN, finishedAt: expect.any(Number) });
  });

  it('requeues a job whose container was never started, and runs it', async () => {
    await helpers.until(jobs.neverStarted, 'succeeded');
    const reasons = after.jobs.events(after.users.get(ADMIN.username), jobs.neverStarted.id).map((event) => `${event.toState}: ${event.reason}`);
    expect(reasons).toContain('queued: requeued: Trainyard stopped before the container started');
    expect(helpers.logOf(jobs.neverStarted, 'stdout')).toEqual(['placed before the stop']);
  });

  it('removes a container of this appliance that belongs to no job', async () => {
    expect(await stateOf(engine, orphanId)).toBe('gone');
  });

  it('leaves no job running without a container', async () => {
    for (const job of after.jobs.inStates(['running', 'starting'])) {
      expect(await stateOf(engine, job.containerId!)).toBe('running');
    }
  });
});
