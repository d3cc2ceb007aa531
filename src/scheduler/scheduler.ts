import type { Config } from '../config.ts';
import type { GpuInventory } from '../gpu/gpu-inventory.ts';
import type { Bus } from '../lib/bus.ts';
import type { Log } from '../lib/log.ts';
import type { ContainerRuntime } from '../runtime/container-runtime.ts';
import { RuntimeUnavailable } from '../runtime/runtime-errors.ts';
import { SIMULATED_UTILIZATION, simulatedLoads } from './gpu-accounting.ts';
import { jobContainerName, jobFolders } from './job-container.ts';
import { engineDownReason, gpuList, launchJob, type LaunchDeps } from './job-launch.ts';
import type { JobLogs } from './job-logs.ts';
import { watchJob, type JobRunner, type RunnerDeps } from './job-runner.ts';
import { isFinished } from './job-states.ts';
import type { JobTracking } from './job-tracking.ts';
import type { JobRecord, Jobs, JobState } from './jobs.ts';
import { hostCapacity, placeableGpus, placementInput } from './placement-input.ts';
import type { HostCapacity, PlaceableGpu, Quotas, StartDecision } from './placement-types.ts';
import { planPlacement } from './plan-placement.ts';
import { adoptJob, removeOrphans } from './reconcile.ts';

export interface SchedulerDeps {
  jobs: Jobs;
  jobLogs: JobLogs;
  gpus: GpuInventory;
  /** Made on first use: an appliance that runs no jobs never loads the Docker client. */
  runtime: () => ContainerRuntime;
  log: Log;
  now: () => number;
  bus: Bus;
  config: Pick<Config, 'dataDir' | 'gpuQuotaPerUser' | 'gpuQuotaPerProject'>;
  /** The runtime's instance id: part of every container name. */
  instanceId: string;
  /** MLflow for jobs: each start gets a run and the environment that logs to it; each end ends the run. */
  tracking?: JobTracking;
  /** How often the scheduler decides when nothing asks it to (back-offs ending, time limits, an engine coming back). */
  tickIntervalMs?: number;
  retryBaseMs?: number;
  stopGraceSeconds?: number;
  host?: HostCapacity;
}

export interface Scheduler {
  /** Reconciles with Docker (adopting the containers of running jobs) and starts deciding; resolves after the first decision. */
  start(): Promise<void>;
  /** Stops deciding and watching. Containers keep running: the next start adopts them. */
  stop(): Promise<void>;
}

const ACTIVE = ['starting', 'running'] as const;
const isActive = (state: JobState | null) => state === 'starting' || state === 'running';

/**
 * Runs jobs: one decision at a time (on a submission, a finished job, a cancel, and a timer), each a pure plan
 * of the machine's state carried out — containers started on the planned GPUs, lower-priority jobs preempted,
 * waiting reasons kept current — while a watcher per running job copies its log and records its exit.
 */
export function createScheduler(deps: SchedulerDeps): Scheduler {
  const { jobs, jobLogs, gpus, log, now, bus, config, instanceId } = deps;
  const tickIntervalMs = deps.tickIntervalMs ?? 2_000;
  const host = deps.host ?? hostCapacity();
  let engine: { runtime: ContainerRuntime; runner: RunnerDeps; launch: LaunchDeps } | undefined;
  const engineDeps = () => {
    if (engine) return engine;
    const runtime = deps.runtime();
    const runner = { jobs, jobLogs, runtime, gpus, log, now, stopGraceSeconds: deps.stopGraceSeconds ?? 10, retryBaseMs: deps.retryBaseMs ?? 10_000 };
    const launch = { jobs, jobLogs, runtime, log, now, instanceId, folders: jobFolders(config.dataDir), ...(deps.tracking && { tracking: deps.tracking }) };
    return (engine = { runtime, runner, launch });
  };
  const quotas: Quotas = {
    ...(config.gpuQuotaPerUser !== undefined && { gpusPerUser: config.gpuQuotaPerUser }),
    ...(config.gpuQuotaPerProject !== undefined && { gpusPerProject: config.gpuQuotaPerProject }),
  };

  const runners = new Map<number, JobRunner>();
  const launching = new Set<number>();
  const launches = new Set<Promise<void>>();
  let lastLoads = new Map<string, number>();
  let state: 'idle' | 'running' | 'stopped' = 'idle';
  let engineProblem: string | undefined;
  let swept = false;
  let ticking: Promise<void> | undefined;
  let again = false;
  let timer: NodeJS.Timeout | undefined;
  const unsubscribes: Array<() => void> = [];

  function watch(runner: JobRunner): JobRunner {
    runners.set(runner.jobId, runner);
    void runner.done.then(() => {
      if (runners.get(runner.jobId) === runner) runners.delete(runner.jobId);
    });
    return runner;
  }

  /** Jobs wait until the engine answers again; then the containers it may have left half-made are swept. */
  function lostEngine(problem: string): void {
    engineProblem = problem;
    swept = false;
    for (const job of jobs.inStates(['queued'])) explain(job, engineDownReason(problem));
  }

  const stopping = (job: JobRecord) => job.cancelRequestedAt !== null || runners.get(job.id)?.intent !== undefined;

  /** Queued jobs say why they wait; only a changed reason is written (and published). */
  function explain(job: JobRecord, reason: string): void {
    if (job.reason !== reason) jobs.update(job.id, { reason });
  }

  function place(job: JobRecord, decision: StartDecision, simulated: boolean): void {
    const placed = jobs.move(job.id, 'queued', 'starting', `placed on ${gpuList(decision.gpuUuids)}`, {
      gpuUuids: decision.gpuUuids,
      // The name until Docker gives the id: a restart in between finds the container by it.
      containerId: jobContainerName(job, job.attempts + 1, instanceId),
      notBefore: null,
    });
    if (!placed) return;
    log.info({ jobId: job.id, gpus: decision.gpuUuids }, 'starting a job');
    launching.add(job.id);
    const launched = launchJob(engineDeps().launch, placed, simulated)
      .then((result) => {
        if ('engineDown' in result) lostEngine(result.engineDown);
        if (!('running' in result) || state !== 'running') return;
        const runner = watch(watchJob(engineDeps().runner, result.running, result.running.containerId!));
        if (result.running.cancelRequestedAt !== null) runner.stop({ kind: 'cancel' });
      })
      .catch((error: unknown) => log.error({ err: error, jobId: job.id }, 'starting a job failed'))
      .finally(() => {
        launching.delete(job.id);
        launches.delete(launched);
      });
    launches.add(launched);
  }

  /** Watches again every starting or running job nothing watches: all of them after a restart. */
  async function adoptUnwatched(active: readonly JobRecord[]): Promise<void> {
    if (!swept) {
      await removeOrphans(engineDeps().runner, active);
      swept = true;
    }
    for (const job of active) {
      if (runners.has(job.id) || launching.has(job.id)) continue;
      const runner = await adoptJob(engineDeps().runner, job);
      if (runner) watch(runner);
    }
  }

  /** Cancels asked for and time limits reached: SIGTERM, the grace period, SIGKILL. */
  function stopWhereDue(active: readonly JobRecord[], at: number): void {
    for (const job of active) {
      const runner = runners.get(job.id);
      if (!runner) continue;
      if (job.cancelRequestedAt !== null) runner.stop({ kind: 'cancel' });
      else if (job.timeLimitMs !== null && job.startedAt !== null && at - job.startedAt >= job.timeLimitMs) runner.stop({ kind: 'timeout' });
    }
  }

  function showLoads(units: readonly PlaceableGpu[]): void {
    const loads = simulatedLoads(units, jobs.inStates([...ACTIVE]));
    for (const [uuid, bytes] of loads) {
      if (lastLoads.get(uuid) !== bytes) gpus.setLoad(uuid, bytes > 0 ? SIMULATED_UTILIZATION : 0, bytes);
    }
    lastLoads = loads;
  }

  async function decide(): Promise<void> {
    const ready = () => jobs.inStates(['queued']).filter((job) => job.notBefore === null || job.notBefore <= now());
    const unwatched = jobs.inStates([...ACTIVE]);
    // Nothing to run or watch: the engine is not needed (orphans of earlier runs are swept with the next job).
    if (unwatched.length === 0 && ready().length === 0 && ![...lastLoads.values()].some((bytes) => bytes > 0)) return;
    await adoptUnwatched(unwatched);
    const at = now();
    const active = jobs.inStates([...ACTIVE]);
    stopWhereDue(active, at);
    // A cancel that came while the job was starting, and the start then failed for a passing reason.
    for (const job of ready()) if (job.cancelRequestedAt !== null) jobs.move(job.id, 'queued', 'cancelled', 'cancelled before it started', { finishedAt: at });
    const waiting = ready();
    const snapshot = await gpus.list();
    const units = placeableGpus(snapshot, snapshot.kind === 'simulated' ? lastLoads : undefined);
    if (waiting.length > 0) {
      const plan = planPlacement(placementInput({ now: at, gpus: units, host, holding: active, waiting, stopping, quotas }));
      const byId = new Map(waiting.map((job) => [job.id, job]));
      for (const preemption of plan.preempt) runners.get(Number(preemption.jobId))?.stop({ kind: 'preempt', forJobId: preemption.forJobId });
      for (const decision of plan.start) place(byId.get(Number(decision.jobId))!, decision, snapshot.kind === 'simulated');
      for (const wait of plan.waiting) {
        const job = byId.get(Number(wait.jobId))!;
        if (wait.code === 'impossible') jobs.move(job.id, 'queued', 'failed', wait.reason, { finishedAt: at });
        else explain(job, wait.reason);
      }
    }
    if (snapshot.kind === 'simulated') showLoads(units);
  }

  async function tick(): Promise<void> {
    if (engineProblem !== undefined) {
      if (!(await engineDeps().runtime.available())) {
        for (const job of jobs.inStates(['queued'])) explain(job, engineDownReason(engineProblem));
        return;
      }
      log.info('the Docker engine answers again: scheduling resumes');
      engineProblem = undefined;
    }
    try {
      await decide();
    } catch (error) {
      if (!(error instanceof RuntimeUnavailable)) throw error;
      log.warn({ reason: error.message }, 'the Docker engine is not reachable: jobs wait until it is');
      lostEngine(error.message);
    }
  }

  async function runTicks(): Promise<void> {
    do {
      again = false;
      try {
        await tick();
      } catch (error) {
        log.error({ err: error }, 'a scheduling decision failed');
      }
    } while (again && state === 'running');
  }

  function requestTick(): void {
    if (state !== 'running') return;
    if (ticking) {
      again = true;
      return;
    }
    ticking = runTicks().finally(() => {
      ticking = undefined;
      if (again) requestTick();
    });
  }

  return {
    async start() {
      if (state !== 'idle') return;
      state = 'running';
      unsubscribes.push(
        bus.subscribe('job.changed', ({ job, from }) => {
          if (isActive(from) && !isActive(job.state)) deps.tracking?.finish(job);
          // A submission, a requeue or a job that ended: something may start. Reason updates are not.
          if (from === null || isFinished(job.state) || (job.state === 'queued' && from !== 'queued')) requestTick();
        }),
        bus.subscribe('job.cancel-requested', ({ job }) => {
          runners.get(job.id)?.stop({ kind: 'cancel' });
          requestTick();
        }),
      );
      timer = setInterval(requestTick, tickIntervalMs).unref();
      requestTick();
      await ticking;
    },

    async stop() {
      if (state !== 'running') return;
      state = 'stopped';
      clearInterval(timer);
      for (const unsubscribe of unsubscribes.splice(0)) unsubscribe();
      await ticking;
      await Promise.allSettled([...launches]);
      for (const runner of runners.values()) runner.detach();
      await Promise.allSettled([...runners.values()].map((runner) => runner.done));
    },
  };
}
