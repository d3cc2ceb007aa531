import { HttpError } from '../lib/errors.ts';
import type { ContainerStatus } from '../runtime/container-status.ts';
import { watchJob, type JobRunner, type RunnerDeps } from './job-runner.ts';
import type { JobRecord } from './jobs.ts';
import { storedPosition } from './log-follow.ts';

export const VANISHED_WHILE_DOWN = 'container vanished while Trainyard was down';
const NEVER_STARTED = 'requeued: Trainyard stopped before the container started';

async function inspectIfThere(deps: RunnerDeps, ref: string | null): Promise<ContainerStatus | undefined> {
  if (ref === null) return undefined;
  try {
    return await deps.runtime.inspect(ref);
  } catch (error) {
    if (error instanceof HttpError && error.status === 404) return undefined;
    throw error;
  }
}

/**
 * Takes a starting or running job that nothing in this process watches (after a restart) back under watch. Its
 * container still runs: followed from where its stored log ends, and awaited. It exited meanwhile: its real exit
 * is recorded. It is gone: a running job is lost; a starting job whose container never ran goes back in the queue.
 * Throws RuntimeUnavailable when the engine cannot say.
 */
export async function adoptJob(deps: RunnerDeps, job: JobRecord): Promise<JobRunner | undefined> {
  const { jobs, runtime, now, log } = deps;
  const status = await inspectIfThere(deps, job.containerId);
  if (status?.state === 'created') await runtime.remove(status.id);
  if (!status || status.state === 'created') {
    if (job.state === 'starting') jobs.move(job.id, 'starting', 'queued', NEVER_STARTED, { containerId: null, gpuUuids: [] });
    else jobs.move(job.id, 'running', 'lost', VANISHED_WHILE_DOWN, { finishedAt: now() });
    log.warn({ jobId: job.id, container: job.containerId, state: job.state }, status ? 'job container never started' : VANISHED_WHILE_DOWN);
    return undefined;
  }
  let running = job;
  if (job.state === 'starting') {
    const moved = jobs.move(job.id, 'starting', 'running', `running (attempt ${job.attempts + 1}, adopted after a restart)`, {
      containerId: status.id,
      startedAt: now(),
      attempts: job.attempts + 1,
    });
    if (!moved) return undefined;
    running = moved;
  }
  log.info({ jobId: job.id, container: status.name, state: status.state }, 'adopted a job container');
  return watchJob(deps, running, status.id, storedPosition(deps.jobLogs.read(job.id)));
}

/** Removes this appliance's job containers that belong to no starting or running job (a crash between steps). */
export async function removeOrphans(deps: RunnerDeps, active: readonly JobRecord[]): Promise<void> {
  const known = new Set(active.flatMap((job) => (job.containerId === null ? [] : [job.containerId])));
  for (const container of await deps.runtime.listOwned()) {
    if (container.workload.kind !== 'job' || known.has(container.id) || known.has(container.name)) continue;
    deps.log.warn({ container: container.name, id: container.id, state: container.state }, 'removing a job container that belongs to no running job');
    await deps.runtime.remove(container.id);
  }
}
