import { setTimeout as sleep } from 'node:timers/promises';
import type { ContainerRuntime } from '../runtime/container-runtime.ts';
import type { JobRecord, Jobs } from '../scheduler/jobs.ts';
import type { DeploymentRecord } from './deployment-queries.ts';
import type { DeploymentTimings } from './deployment-timings.ts';
import { probeOnce } from './health-probe.ts';

export interface ProbeDeps {
  jobs: Pick<Jobs, 'byId'>;
  runtime: () => ContainerRuntime;
  timings: DeploymentTimings;
  /** Asks the controller for another step. */
  wake(): void;
  /** Aborted when the manager stops. */
  signal: AbortSignal;
}

export const monotonic = () => performance.now();
export const seconds = (ms: number) => `${Number((ms / 1000).toFixed(1))} s`;

/** One replica's job, as the controller follows it. */
export interface Replica {
  jobId: number;
  slot: number;
  version: number;
  /** When the controller first saw its job running: the readiness timeout counts from here. */
  runningSince?: number;
  /** http://127.0.0.1:<published port>, once known. */
  url?: string;
  ready: boolean;
  readySince?: number;
  probing: boolean;
  lastProblem?: string;
  livenessFailures: number;
  lastLiveness: number;
  /** Why a probe says it must be replaced; the step acts on it. */
  failure?: string;
  /** Its job was cancelled so that a new replica replaces it. */
  replacing?: boolean;
  /** Its job was cancelled for good (undeployed, an old version, a failed rollout). */
  retired?: string;
  /** Out of traffic since a switch to a new version: retired once this time has passed. */
  drainUntil?: number;
}

async function hostUrl(runtime: ContainerRuntime, job: JobRecord, port: number): Promise<string | undefined> {
  if (job.containerId === null) return undefined;
  try {
    const hostPort = (await runtime.inspect(job.containerId)).ports[port];
    return hostPort === undefined ? undefined : `http://127.0.0.1:${hostPort}`;
  } catch {
    return undefined;
  }
}

/** Probes until the replica answers, its job ends or the readiness timeout passes; never throws. */
async function awaitReady(deps: ProbeDeps, deployment: DeploymentRecord, replica: Replica, job: JobRecord): Promise<void> {
  const { jobs, timings, signal } = deps;
  const deadline = replica.runningSince! + deployment.readinessTimeoutMs;
  while (!signal.aborted && replica.retired === undefined && monotonic() < deadline) {
    replica.url ??= await hostUrl(deps.runtime(), job, deployment.port);
    if (replica.url) {
      const result = await probeOnce(`${replica.url}${deployment.healthPath}`, timings.probeTimeoutMs, signal);
      if (result.ok) {
        Object.assign(replica, { ready: true, readySince: monotonic(), livenessFailures: 0, lastLiveness: monotonic() });
        return;
      }
      replica.lastProblem = result.problem;
    }
    if (jobs.byId(replica.jobId)?.state !== 'running') return;
    await sleep(timings.readinessRetryMs, undefined, { signal }).catch(() => undefined);
  }
  if (signal.aborted || replica.retired !== undefined || jobs.byId(replica.jobId)?.state !== 'running') return;
  replica.failure = `was not ready within ${seconds(deployment.readinessTimeoutMs)} (GET ${deployment.healthPath}: ${replica.lastProblem ?? 'its port was not published'})`;
}

/**
 * Probes a replica whose job runs, unless a probe is under way: readiness (again and again until it answers, its
 * job ends or the timeout passes) until it is ready, then liveness every interval. What a probe finds is written
 * on the replica (ready, or why it must be replaced), and `wake` asks the controller to act on it.
 */
export function probeReplica(deps: ProbeDeps, deployment: DeploymentRecord, replica: Replica, job: JobRecord): void {
  const { timings, signal, wake } = deps;
  replica.runningSince ??= monotonic();
  if (replica.probing || replica.retired !== undefined || replica.failure !== undefined) return;
  if (!replica.ready) {
    replica.probing = true;
    void awaitReady(deps, deployment, replica, job).finally(() => {
      replica.probing = false;
      wake();
    });
  } else if (monotonic() - replica.lastLiveness >= timings.livenessIntervalMs) {
    replica.probing = true;
    replica.lastLiveness = monotonic();
    void probeOnce(`${replica.url}${deployment.healthPath}`, timings.probeTimeoutMs, signal)
      .then((result) => {
        if (result.ok) replica.livenessFailures = 0;
        else if (++replica.livenessFailures >= timings.livenessFailures && !signal.aborted) {
          replica.ready = false;
          replica.failure = `failed ${replica.livenessFailures} liveness probes in a row (GET ${deployment.healthPath}: ${result.problem})`;
        }
      })
      .finally(() => {
        replica.probing = false;
        if (replica.failure !== undefined) wake();
      });
  }
}
