import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { expect, vi } from 'vitest';
import type { UserRecord } from '../../src/auth/user-queries.ts';
import type { ConfigInput } from '../../src/config.ts';
import { readInstanceId } from '../../src/scheduler/instance-id.ts';
import { jobSubmissionSchema } from '../../src/scheduler/job-request.ts';
import type { JobRecord, JobState } from '../../src/scheduler/jobs.ts';
import { createScheduler, type Scheduler, type SchedulerDeps } from '../../src/scheduler/scheduler.ts';
import type { App } from '../../src/app.ts';
import { removeInstanceContainers, requireImage, TEST_IMAGE } from '../runtime/runtime-fixtures.ts';
import { ADMIN, createTestApp, type TestApp } from '../helpers/test-app.ts';

/** A job script waits here until the test writes `<data>/outputs/<job>/go` (its /outputs/go). */
export const AWAIT_GO = 'until [ -f /outputs/go ]; do sleep 0.05; done';

/** Faster than the appliance's defaults, so the tests do not wait on the timer. */
export const TEST_TIMINGS = { tickIntervalMs: 100, retryBaseMs: 1_000, stopGraceSeconds: 2 } as const;

export type SchedulerOptions = Partial<Omit<SchedulerDeps, 'jobs' | 'jobLogs' | 'log' | 'now' | 'bus' | 'config' | 'instanceId'>>;

/** A scheduler over an app's parts, with test timings; `options` replace the runtime, the GPUs, the timings. */
export function schedulerFor(app: App, options: SchedulerOptions = {}): Scheduler {
  const { jobs, jobLogs, gpus, log, now, bus, config } = app;
  return createScheduler({ jobs, jobLogs, gpus, runtime: () => app.runtime, log, now, bus, config, instanceId: readInstanceId(config.dataDir), ...TEST_TIMINGS, ...options });
}

export interface SchedulerWorld {
  t: TestApp;
  app: App;
  admin: UserRecord;
  scheduler: Scheduler;
  /** Submits a job in the test image as the admin; `script` runs under sh -c. */
  submit(script: string, fields?: Record<string, unknown>): JobRecord;
  /** Lets a job that waits on AWAIT_GO go on. */
  release(job: { id: number }): void;
  /** The job once `check` holds for it (a state, or a predicate); fails after `timeoutMs`. */
  until(job: { id: number }, check: JobState | ((job: JobRecord) => boolean), timeoutMs?: number): Promise<JobRecord>;
  /** The texts of a job's stored log lines, of one stream or all. */
  logOf(job: { id: number }, stream?: 'stdout' | 'stderr' | 'system'): string[];
  /** Stops the scheduler, removes every container of the app's instance, closes the app and removes its data. */
  close(): Promise<void>;
}

export function jobHelpers(app: App, admin: UserRecord): Omit<SchedulerWorld, 't' | 'app' | 'admin' | 'scheduler' | 'close'> {
  return {
    submit: (script, fields = {}) => app.jobs.submit(admin, jobSubmissionSchema.parse({ image: TEST_IMAGE, command: ['sh', '-c', script], ...fields })),
    release: (job) => writeFileSync(join(app.config.dataDir, 'outputs', String(job.id), 'go'), ''),
    until: (job, check, timeoutMs = 15_000) =>
      vi.waitFor(
        () => {
          const current = app.jobs.byId(job.id)!;
          if (typeof check === 'string') expect(current, current.reason).toMatchObject({ state: check });
          else expect(check(current), `${current.state}: ${current.reason}`).toBe(true);
          return current;
        },
        { timeout: timeoutMs, interval: 25 },
      ),
    logOf: (job, stream) =>
      app.jobLogs
        .read(job.id)
        .filter((line) => stream === undefined || line.stream === stream)
        .map((line) => line.text),
  };
}

/**
 * A test app with simulated GPUs (4x H100 unless `config` says otherwise) and a started scheduler on the real
 * engine. Return its `close` from the `beforeAll` that makes it: vitest never runs an afterAll registered while
 * a beforeAll runs, so the world cannot clean up after itself.
 */
export async function createSchedulerWorld(docker: Dockerode, config: ConfigInput = {}, options: SchedulerOptions = {}): Promise<SchedulerWorld> {
  await requireImage(docker);
  const t = await createTestApp(config);
  const { dataDir } = t.app.config;
  const instanceId = readInstanceId(dataDir);
  const admin = t.app.users.get(ADMIN.username);
  const scheduler = schedulerFor(t.app, options);
  await scheduler.start();
  return {
    t,
    app: t.app,
    admin,
    scheduler,
    ...jobHelpers(t.app, admin),
    async close() {
      await scheduler.stop();
      await removeInstanceContainers(docker, [instanceId]);
      t.app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
