import type { RuleSources } from './alert-rule.ts';

/** A job an alert is about, as its message names it and its details record it. */
export interface JobSubject {
  projectId: number | null;
  /** `job 17 "train"`, or `replica job 18 of deployment "churn"`. */
  text: string;
  details: { jobId: number; jobName?: string; deployment?: string };
}

export function jobSubject(sources: RuleSources, jobId: number, deploymentId: number | null): JobSubject {
  const deployment = deploymentId === null ? undefined : sources.deployments.byId(deploymentId);
  if (deployment) {
    return { projectId: deployment.projectId, text: `replica job ${jobId} of deployment "${deployment.name}"`, details: { jobId, deployment: deployment.name } };
  }
  const job = sources.jobs.byId(jobId);
  if (!job) return { projectId: null, text: `job ${jobId}`, details: { jobId } };
  return { projectId: job.projectId, text: `job ${jobId} "${job.name}"`, details: { jobId, jobName: job.name } };
}
