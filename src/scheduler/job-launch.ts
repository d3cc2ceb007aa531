import { HttpError } from '../lib/errors.ts';
import type { Log } from '../lib/log.ts';
import type { ContainerRuntime } from '../runtime/container-runtime.ts';
import { ContainerStartFailed, RuntimeUnavailable } from '../runtime/runtime-errors.ts';
import { jobContainerRequest, type JobFolders } from './job-container.ts';
import type { JobLogs } from './job-logs.ts';
import type { JobTracking } from './job-tracking.ts';
import type { JobRecord, Jobs } from './jobs.ts';

export interface LaunchDeps {
  jobs: Jobs;
  jobLogs: JobLogs;
  runtime: ContainerRuntime;
  log: Log;
  now: () => number;
  instanceId: string;
  folders: JobFolders;
  /** MLflow for jobs: a run and the environment that logs to it, made before the container starts. */
  tracking?: Pick<JobTracking, 'prepare'>;
}

export const engineDownReason = (problem: string) => `Docker is not reachable: ${problem}`;

export const gpuList = (uuids: readonly string[]) => (uuids.length === 0 ? 'no GPU' : uuids.join(', '));

export type LaunchResult = { running: JobRecord } | { engineDown: string } | { failed: string };

/** Why a start failed, as the job's reason: Docker's own words where it gave some. */
function failureReason(error: unknown, tracked: boolean): string {
  if (error instanceof ContainerStartFailed) return `Docker could not start the container: ${error.dockerMessage}`;
  if (error instanceof HttpError) return error.message;
  return `${tracked ? 'the container could not be created' : 'its MLflow run could not be prepared'}: ${(error as Error).message}`;
}

/**
 * Starts the container of a job the scheduler has just placed (state `starting`, its GPUs recorded) and moves
 * it to `running`. A refusal (a missing image, an invalid request, Docker's start error) fails the job; an engine
 * that cannot be reached puts it back in the queue with that reason.
 */
export async function launchJob(deps: LaunchDeps, job: JobRecord, simulatedGpus: boolean): Promise<LaunchResult> {
  const { jobs, jobLogs, runtime, log, now } = deps;
  const attempt = job.attempts + 1;
  let containerId: string;
  // The job records its run as soon as there is one, so that the run is ended whatever becomes of the start.
  let run: { mlflowRunId?: string } = {};
  try {
    // A deployment's replica serves a model: it trains nothing, so it gets no MLflow run.
    const tracked = job.deploymentId === null ? deps.tracking?.prepare(job) : undefined;
    if (tracked) run = { mlflowRunId: tracked.mlflowRunId };
    // The policy as it is now: one narrowed since the submission refuses the start.
    const policy = jobs.securityPolicyOf(job);
    const placement = { project: policy.project, gpuUuids: job.gpuUuids, simulated: simulatedGpus, instanceId: deps.instanceId, folders: deps.folders };
    const request = jobContainerRequest(job, { ...placement, ...(tracked && { env: tracked.env }) });
    containerId = (await runtime.start(request, policy)).id;
  } catch (error) {
    if (error instanceof RuntimeUnavailable) {
      const reason = engineDownReason(error.message);
      jobs.move(job.id, 'starting', 'queued', reason, { ...run, containerId: null, gpuUuids: [] });
      return { engineDown: error.message };
    }
    const reason = failureReason(error, deps.tracking === undefined || run.mlflowRunId !== undefined);
    if (!(error instanceof HttpError || error instanceof ContainerStartFailed)) log.error({ err: error, jobId: job.id }, 'a job could not be started');
    jobs.move(job.id, 'starting', 'failed', reason, { ...run, containerId: null, finishedAt: now() });
    jobLogs.append(job.id, [{ stream: 'system', time: now(), text: reason }]);
    return { failed: reason };
  }
  const reason = `running on ${gpuList(job.gpuUuids)} (attempt ${attempt})`;
  const running = jobs.move(job.id, 'starting', 'running', reason, { ...run, containerId, startedAt: now(), attempts: attempt });
  if (!running) {
    // Nothing else moves a starting job; should it happen anyway, the container must not run unaccounted for.
    await runtime.remove(containerId).catch(() => undefined);
    return { failed: 'the job moved on while its container started' };
  }
  jobLogs.append(job.id, [{ stream: 'system', time: now(), text: reason }]);
  return { running };
}
