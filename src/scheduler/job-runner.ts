import { setTimeout as sleep } from 'node:timers/promises';
import { placeableUnits, type GpuInventory } from '../gpu/gpu-inventory.ts';
import { HttpError } from '../lib/errors.ts';
import type { Log } from '../lib/log.ts';
import type { ContainerRuntime, ExitStatus } from '../runtime/container-runtime.ts';
import { RuntimeUnavailable } from '../runtime/runtime-errors.ts';
import { allocatedGpus, gpuSecondsOf } from './gpu-accounting.ts';
import type { JobLogs } from './job-logs.ts';
import { outcomeOf, type ContainerEnd, type StopIntent } from './job-outcome.ts';
import type { JobRecord, Jobs } from './jobs.ts';
import { followLogs, type LogPosition } from './log-follow.ts';

export interface RunnerDeps {
  jobs: Jobs;
  jobLogs: JobLogs;
  runtime: ContainerRuntime;
  gpus: GpuInventory;
  log: Log;
  now: () => number;
  /** SIGTERM, then SIGKILL this long after (cancel, time limit, preemption). */
  stopGraceSeconds: number;
  /** The first retry's back-off; each further one doubles it. */
  retryBaseMs: number;
}

/** One running job's container, watched: its log copied, its exit awaited and recorded. */
export interface JobRunner {
  readonly jobId: number;
  readonly containerId: string;
  /** Why the scheduler is stopping it, once it is. */
  readonly intent: StopIntent | undefined;
  /** Stops the container (SIGTERM, grace, SIGKILL); the first intent is kept. Sent again if the engine missed it. */
  stop(intent: StopIntent): void;
  /** Lets go of the container without touching it or the job: the next start adopts it. */
  detach(): void;
  /** Settles once the job is finished (or requeued) and its container removed, or once detached. */
  readonly done: Promise<void>;
}

/** The engine is down or restarting: ask again this often. */
const ENGINE_RETRY_MS = 2_000;
/** After the exit, the log's last lines get this long to arrive before the job is finished. */
const LOG_DRAIN_MS = 5_000;

const VANISHED_WHILE_RUNNING = 'the container was removed while the job ran (outside Trainyard)';

/** The container's exit; waits again when the engine drops the connection (a restart of dockerd). */
async function waitForExit(runtime: ContainerRuntime, containerId: string, signal: AbortSignal): Promise<ExitStatus | undefined> {
  for (;;) {
    try {
      return await runtime.wait(containerId, { signal });
    } catch (error) {
      if (signal.aborted) throw error;
      if (error instanceof HttpError && error.status === 404) return undefined;
      if (!(error instanceof RuntimeUnavailable)) throw error;
      await sleep(ENGINE_RETRY_MS, undefined, { signal });
    }
  }
}

/** Docker's account of the run; the wait's answer (and a run of no length) when the container is already gone. */
async function endOf(runtime: ContainerRuntime, containerId: string, exit: ExitStatus): Promise<ContainerEnd> {
  const finishedAt = exit.finishedAt.getTime();
  const fallback = { exitCode: exit.exitCode, oomKilled: exit.oomKilled, startedAt: finishedAt, finishedAt };
  try {
    const status = await runtime.inspect(containerId);
    return { ...fallback, startedAt: status.startedAt?.getTime() ?? finishedAt, finishedAt: status.finishedAt?.getTime() ?? finishedAt };
  } catch {
    return fallback;
  }
}

/**
 * Watches a job that is running in `containerId` (just started, or adopted after a restart with the log position
 * to resume from) through to its end, then records the outcome and removes the container.
 */
export function watchJob(deps: RunnerDeps, job: JobRecord, containerId: string, from?: LogPosition): JobRunner {
  const { jobs, jobLogs, runtime, gpus, log, now } = deps;
  const detached = new AbortController();
  let intent: StopIntent | undefined;
  let stopSent = false;
  let stopInFlight = false;

  async function finish(end: ContainerEnd): Promise<void> {
    const current = jobs.byId(job.id);
    if (current?.state === 'running' && current.containerId === containerId) await record(current, end);
    if ('vanished' in end) return;
    // Its log is in the job's log already; a container that cannot be removed now is swept at the next start.
    await runtime.remove(containerId).catch((error: unknown) => log.warn({ err: error, jobId: job.id }, 'could not remove a finished job container'));
  }

  async function record(current: JobRecord, end: ContainerEnd): Promise<void> {
    const memoryTotals = current.gpuMemory === null ? undefined : new Map(placeableUnits(await gpus.list()).map((unit) => [unit.uuid, unit.memoryTotal ?? undefined]));
    const held = allocatedGpus(current, (uuid) => memoryTotals?.get(uuid));
    const at = now();
    const gpuSeconds = 'vanished' in end ? gpuSecondsOf(held, current.startedAt ?? at, at) : gpuSecondsOf(held, end.startedAt, end.finishedAt);
    const outcome = outcomeOf(current, end, { ...(intent && { intent }), gpuSeconds, now: at, retryBaseMs: deps.retryBaseMs });
    if (jobs.move(job.id, 'running', outcome.to, outcome.reason, outcome.changes)) {
      jobLogs.append(job.id, [{ stream: 'system', time: at, text: outcome.reason }]);
    }
  }

  async function run(): Promise<void> {
    const logsStop = new AbortController();
    const logsSignal = AbortSignal.any([detached.signal, logsStop.signal]);
    const logsDone = followLogs({ runtime, jobLogs, log }, job.id, containerId, logsSignal, from).catch((error: unknown) =>
      log.error({ err: error, jobId: job.id }, 'following the job log failed'),
    );
    let exit: ExitStatus | undefined;
    try {
      exit = await waitForExit(runtime, containerId, detached.signal);
      const drained = await Promise.race([logsDone.then(() => true), sleep(LOG_DRAIN_MS, false, { signal: detached.signal })]);
      if (!drained) log.warn({ jobId: job.id }, 'the job log did not end with its container');
    } catch (error) {
      if (detached.signal.aborted) return;
      throw error;
    } finally {
      logsStop.abort();
    }
    await finish(exit ? await endOf(runtime, containerId, exit) : { vanished: VANISHED_WHILE_RUNNING });
  }

  function sendStop(): void {
    if (stopSent || stopInFlight || detached.signal.aborted) return;
    stopInFlight = true;
    runtime
      .stop(containerId, deps.stopGraceSeconds)
      .then(
        () => (stopSent = true),
        (error: unknown) => {
          // The tick asks again while the intent stands: an engine that is back takes it then.
          if (error instanceof HttpError && error.status === 404) stopSent = true;
          else log.warn({ err: error, jobId: job.id }, 'could not stop the job container; trying again');
        },
      )
      .finally(() => (stopInFlight = false));
  }

  const done = run().catch((error: unknown) => log.error({ err: error, jobId: job.id, containerId }, 'watching the job failed'));

  return {
    jobId: job.id,
    containerId,
    get intent() {
      return intent;
    },
    stop(wanted) {
      intent ??= wanted;
      sendStop();
    },
    detach: () => detached.abort(),
    done,
  };
}
