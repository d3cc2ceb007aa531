import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createApp, type App } from '../src/app.ts';
import { bootstrapAuth } from '../src/auth/bootstrap.ts';
import type { UserRecord } from '../src/auth/user-queries.ts';
import { loadConfig } from '../src/config.ts';
import { applyMigrations } from '../src/db/migrate.ts';
import { readInstanceId } from '../src/scheduler/instance-id.ts';
import { jobSubmissionSchema } from '../src/scheduler/job-request.ts';
import type { JobState } from '../src/scheduler/jobs.ts';
import { cli, engineWithImage, IMAGE, overheadPercent, removeBenchContainers, timed } from './containers.ts';
import { median, type BenchResult } from './report.ts';

/**
 * A job's way from submission to a running container through the whole scheduler (the submission's event, a
 * placement decision on 4 simulated GPUs, the state changes in SQLite, the container created with Trainyard's
 * options and started), against a bare `docker run -d` of the same image and command — interleaved, in the same
 * run. Also the runtime's start alone (the scheduler's own share is the rest), and submission to a recorded exit
 * (log followed, exit awaited and recorded) against `docker run --rm`. Rounds rotate the order; two warm up.
 */

const RUNS = 15;
const WARMUP_ROUNDS = 2;
const BENCH_LABEL = 'dev.trainyard.bench';

interface Samples {
  toRunning: number[];
  toExit: number[];
  runtimeToRunning: number[];
  cliToRunning: number[];
  cliToExit: number[];
}

/** Resolves when the job reaches `state`; the scheduler publishes every change. */
function reached(app: App, jobId: () => number | undefined, state: JobState): Promise<number> {
  return new Promise((resolve) => {
    const unsubscribe = app.bus.subscribe('job.changed', ({ job }) => {
      if (job.id !== jobId() || job.state !== state) return;
      unsubscribe();
      resolve(performance.now());
    });
  });
}

async function schedulerRound(app: App, admin: UserRecord, samples: Samples | undefined): Promise<void> {
  let id: number | undefined;
  const running = reached(app, () => id, 'running');
  const succeeded = reached(app, () => id, 'succeeded');
  const submittedAt = performance.now();
  id = app.jobs.submit(admin, jobSubmissionSchema.parse({ image: IMAGE, command: ['true'], gpus: 1 })).id;
  const [runningAt, exitedAt] = await Promise.all([running, succeeded]);
  samples?.toRunning.push(runningAt - submittedAt);
  samples?.toExit.push(exitedAt - submittedAt);
  // The container is removed just after the exit is recorded: let that finish before the next round.
  while ((await app.runtime.listOwned()).length > 0) await new Promise((resolve) => setTimeout(resolve, 10));
}

/** The runtime alone (what the scheduler calls to start a container): the scheduler's own share is the difference. */
async function runtimeRound(app: App, samples: Samples | undefined): Promise<void> {
  const request = { kind: 'job' as const, id: randomUUID().slice(0, 12), project: 'bench', image: IMAGE, command: ['true'] };
  let containerId = '';
  const toRunning = await timed(async () => (containerId = (await app.runtime.start(request)).id));
  samples?.runtimeToRunning.push(toRunning);
  await app.runtime.wait(containerId);
  await app.runtime.remove(containerId);
}

async function cliRound(label: string, samples: Samples | undefined): Promise<void> {
  const toRunning = await timed(() => cli(['run', '-d', '--rm', '--label', label, IMAGE, 'true']));
  const toExit = await timed(() => cli(['run', '--rm', '--label', label, IMAGE, 'true']));
  samples?.cliToRunning.push(toRunning);
  samples?.cliToExit.push(toExit);
}

export async function benchJobs(): Promise<BenchResult> {
  const docker = await engineWithImage();
  const dataDir = mkdtempSync(join(tmpdir(), 'trainyard-bench-jobs-'));
  const label = `${BENCH_LABEL}=${randomUUID().slice(0, 8)}`;
  const app = createApp(loadConfig({ dataDir, logLevel: 'silent', gpus: 'fake:4xH100-80GB' }, {}));
  const samples: Samples = { toRunning: [], toExit: [], runtimeToRunning: [], cliToRunning: [], cliToExit: [] };
  try {
    applyMigrations(app.db);
    await bootstrapAuth({ ...app, adminUsername: 'admin', adminPassword: 'bench-password-1' });
    app.tracking.experiments.ensureDefault();
    const admin = app.users.get('admin');
    await app.scheduler.start();
    const rounds = [
      (measured: Samples | undefined) => schedulerRound(app, admin, measured),
      (measured: Samples | undefined) => runtimeRound(app, measured),
      (measured: Samples | undefined) => cliRound(label, measured),
    ];
    for (let round = 0; round < WARMUP_ROUNDS + RUNS; round++) {
      const measured = round < WARMUP_ROUNDS ? undefined : samples;
      for (let step = 0; step < rounds.length; step++) await rounds[(round + step) % rounds.length]!(measured);
    }
  } finally {
    await app.scheduler.stop();
    await removeBenchContainers(docker, [label]);
    await removeBenchContainers(docker, [`dev.trainyard.instance=${readInstanceId(dataDir)}`]);
    app.close();
    rmSync(dataDir, { recursive: true, force: true });
  }

  const toRunning = median(samples.toRunning);
  const runtimeToRunning = median(samples.runtimeToRunning);
  const cliToRunning = median(samples.cliToRunning);
  const toExit = median(samples.toExit);
  const cliToExit = median(samples.cliToExit);
  return {
    name: 'jobs',
    figures: [
      { label: 'submit to running: scheduler (1 GPU, `true`)', value: toRunning, unit: 'ms', baseline: cliToRunning, samples: samples.toRunning },
      { label: 'baseline: docker run -d --rm', value: cliToRunning, unit: 'ms', samples: samples.cliToRunning },
      { label: 'submit to running: overhead over docker run -d', value: overheadPercent(toRunning, cliToRunning), unit: '%', target: '<= 10 %' },
      { label: 'the runtime alone: runtime.start (create + start)', value: runtimeToRunning, unit: 'ms', samples: samples.runtimeToRunning },
      { label: "the scheduler's own share: submit to running over runtime.start", value: overheadPercent(toRunning, runtimeToRunning), unit: '%' },
      { label: 'submit to exit recorded: scheduler', value: toExit, unit: 'ms', baseline: cliToExit, samples: samples.toExit },
      { label: 'baseline: docker run --rm', value: cliToExit, unit: 'ms', samples: samples.cliToExit },
      { label: 'submit to exit: overhead over docker run --rm', value: overheadPercent(toExit, cliToExit), unit: '%' },
    ],
  };
}
