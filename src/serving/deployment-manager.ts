import type { Bus } from '../lib/bus.ts';
import type { Log } from '../lib/log.ts';
import type { ContainerRuntime } from '../runtime/container-runtime.ts';
import type { JobLogs } from '../scheduler/job-logs.ts';
import type { Jobs } from '../scheduler/jobs.ts';
import { controlDeployment, type DeploymentController } from './deployment-controller.ts';
import { DEFAULT_TIMINGS, type DeploymentTimings } from './deployment-timings.ts';
import type { Deployments } from './deployments.ts';

export interface DeploymentManagerDeps {
  deployments: Deployments;
  jobs: Jobs;
  jobLogs: JobLogs;
  /** Made on first use, as the scheduler's: only a running replica is inspected. */
  runtime: () => ContainerRuntime;
  bus: Bus;
  log: Log;
  timings?: Partial<DeploymentTimings>;
}

export interface DeploymentManager {
  /** Takes every live deployment (and the replica jobs a restart left running) under control; resolves after the first step. */
  start(): Promise<void>;
  /** Stops probing and deciding; replicas keep running, and the next start probes them again. */
  stop(): Promise<void>;
}

/**
 * Keeps deployments serving: each replica runs as a scheduler job, and one step at a time (on a job or deployment
 * change, a probe's answer, and a timer) the manager places missing replicas, probes readiness and liveness,
 * replaces replicas that ended or stopped answering, rolls out the version an alias moved to (all at once, or as a
 * canary taking a share of the calls until an editor decides), and tells the deployments domain which replicas are
 * ready for the proxy.
 */
export function createDeploymentManager(deps: DeploymentManagerDeps): DeploymentManager {
  const { deployments, jobs, bus, log } = deps;
  const timings = { ...DEFAULT_TIMINGS, ...deps.timings };
  const controllers = new Map<number, DeploymentController>();
  const stopping = new AbortController();
  const timers = new Set<NodeJS.Timeout>();
  const unsubscribes: Array<() => void> = [];
  let state: 'idle' | 'running' | 'stopped' = 'idle';
  let stepping: Promise<void> | undefined;
  let again = false;

  function wake(ms = 0): void {
    if (ms <= 0) return requestStep();
    const timer = setTimeout(() => {
      timers.delete(timer);
      requestStep();
    }, ms).unref();
    timers.add(timer);
  }

  const controllerOf = (id: number) => {
    let controller = controllers.get(id);
    if (!controller) {
      controller = controlDeployment({ ...deps, timings, wake, signal: stopping.signal }, id);
      controllers.set(id, controller);
    }
    return controller;
  };

  /** Live deployments, and any with a replica job still unfinished (one that ended while the appliance was down). */
  async function stepAll(): Promise<void> {
    const ids = new Set([...deployments.live().map(({ id }) => id), ...controllers.keys()]);
    for (const job of jobs.inStates(['queued', 'starting', 'running'])) if (job.deploymentId !== null) ids.add(job.deploymentId);
    for (const id of ids) {
      try {
        if ((await controllerOf(id).step()) === 'done') controllers.delete(id);
      } catch (error) {
        log.error({ err: error, deploymentId: id }, 'a deployment step failed');
      }
    }
  }

  function requestStep(): void {
    if (state !== 'running') return;
    if (stepping) {
      again = true;
      return;
    }
    again = false;
    stepping = stepAll().finally(() => {
      stepping = undefined;
      if (again) requestStep();
    });
  }

  return {
    async start() {
      if (state !== 'idle') return;
      state = 'running';
      unsubscribes.push(
        bus.subscribe('job.changed', ({ job }) => {
          if (job.deploymentId !== null) requestStep();
        }),
        bus.subscribe('deployment.changed', () => requestStep()),
        bus.subscribe('deployment.rollback-requested', ({ deployment, to, by }) => {
          controllerOf(deployment.id).rollback(to, by);
          requestStep();
        }),
        bus.subscribe('deployment.canary-decided', ({ deployment, promote, by }) => {
          controllerOf(deployment.id).decideCanary(promote, by);
          requestStep();
        }),
      );
      const interval = setInterval(requestStep, timings.stepIntervalMs).unref();
      unsubscribes.push(() => clearInterval(interval));
      requestStep();
      await stepping;
    },

    async stop() {
      if (state !== 'running') return;
      state = 'stopped';
      stopping.abort();
      for (const unsubscribe of unsubscribes.splice(0)) unsubscribe();
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await stepping;
    },
  };
}
