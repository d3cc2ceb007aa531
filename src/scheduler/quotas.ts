import type { Pool } from './gpu-pool.ts';
import type { Quotas, QueuedJob } from './placement-types.ts';
import { formatGpus, formatNumber } from './quantities.ts';

const EPSILON = 1e-9;

function limitProblem(what: string, held: number, limit: number | undefined, share: number): string | undefined {
  if (limit === undefined || share === 0 || held + share <= limit + EPSILON) return undefined;
  if (share > limit + EPSILON) return `${what} quota: asks for ${formatGpus(share)}, the limit is ${formatGpus(limit)}`;
  return `${what} quota: ${formatNumber(held)} of ${formatGpus(limit)}`;
}

/** "user quota: 4 of 4 GPUs" when starting the job would take its user or project past their GPU limit. */
export function quotaReason(pool: Pool, quotas: Quotas | undefined, job: QueuedJob, share: number): string | undefined {
  if (!quotas) return undefined;
  const userLimit = quotas.users?.get(job.user) ?? quotas.gpusPerUser;
  const projectLimit = quotas.projects?.get(job.project) ?? quotas.gpusPerProject;
  return (
    limitProblem('user', pool.userShare.get(job.user) ?? 0, userLimit, share) ??
    limitProblem('project', pool.projectShare.get(job.project) ?? 0, projectLimit, share)
  );
}
