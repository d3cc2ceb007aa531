import type { Projects } from '../auth/projects.ts';
import type { UserRecord } from '../auth/user-queries.ts';
import type { Config } from '../config.ts';
import type { GpuInventory } from '../gpu/gpu-types.ts';
import { invalidParameterValue } from '../lib/errors.ts';
import { checkFeasible, checkWithinQuota } from './feasibility.ts';
import type { JobSubmission } from './job-request.ts';
import { hostCapacity, placeableGpus } from './placement-input.ts';

export interface SubmissionCheckDeps {
  projects: Projects;
  gpus: GpuInventory;
  config: Pick<Config, 'gpuQuotaPerUser' | 'gpuQuotaPerProject'>;
}

/**
 * Before a submission is queued: the caller must be an editor of its project (a 404 or 403 comes first, so the
 * machine's size is no one else's business), and it must be able to run here at all. A request for more GPUs
 * than the machine has, more memory than its largest GPU, more CPUs or memory than the host gives jobs, or past a
 * GPU quota would wait in the queue forever: it is refused with a 400 and the reason.
 */
export async function checkSubmission(deps: SubmissionCheckDeps, user: UserRecord, submission: JobSubmission): Promise<void> {
  deps.projects.authorize(user, submission.project, 'editor');
  const resources = {
    gpus: submission.gpus,
    ...(submission.gpuMemory !== undefined && { gpuMemory: submission.gpuMemory }),
    cpus: submission.cpus ?? 0,
    memory: submission.memory ?? 0,
  };
  const gpus = placeableGpus(await deps.gpus.list());
  const { gpuQuotaPerUser, gpuQuotaPerProject } = deps.config;
  const limits = { ...(gpuQuotaPerUser !== undefined && { gpusPerUser: gpuQuotaPerUser }), ...(gpuQuotaPerProject !== undefined && { gpusPerProject: gpuQuotaPerProject }) };
  for (const verdict of [checkFeasible(resources, { gpus, host: hostCapacity() }), checkWithinQuota(resources, gpus, limits)]) {
    if (!verdict.ok) throw invalidParameterValue(`this job could never run here: it ${verdict.reason}`);
  }
}
