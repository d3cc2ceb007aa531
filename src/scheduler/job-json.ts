import type { Projects } from '../auth/projects.ts';
import type { UserRecord } from '../auth/user-queries.ts';
import type { Users } from '../auth/users.ts';
import type { JobRecord, JobState } from './job-queries.ts';

/** A job as the API answers and the CLI reads it: names for ids, sizes in bytes, times in ms since the epoch. */
export interface JobJson {
  id: number;
  project: string;
  user: string;
  name: string;
  image: string;
  command: string[];
  env: Record<string, string>;
  state: JobState;
  /** Why it is in its state: what it waits for while queued, what went wrong once failed. */
  reason: string;
  /** `gpus` whole GPUs, or `gpuMemory` bytes of one GPU; null where nothing was asked. */
  resources: { gpus: number; gpuMemory: number | null; cpus: number | null; memory: number | null };
  priority: number;
  preemptible: boolean;
  timeLimitMs: number | null;
  maxRetries: number;
  /** Starts so far, retries and requeues included. */
  attempts: number;
  snapshotId: string | null;
  /** What it asked for beyond the safe defaults, which its project's security policy allowed. */
  privileged: boolean;
  hostNetwork: boolean;
  mounts: JobRecord['mounts'];
  capabilities: string[];
  /** The deployment this job is a replica of; null for a job someone submitted. */
  deploymentId: number | null;
  /** The GPUs (or MIG devices) it holds or last held, by UUID. */
  gpuUuids: string[];
  exitCode: number | null;
  mlflowRunId: string | null;
  /** Allocated GPU time over every attempt. */
  gpuSeconds: number;
  submittedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  cancelRequestedAt: number | null;
}

export function jobJson(job: JobRecord, names: { project: string; user: string }): JobJson {
  return {
    id: job.id,
    project: names.project,
    user: names.user,
    name: job.name,
    image: job.image,
    command: job.command,
    env: job.env,
    state: job.state,
    reason: job.reason,
    resources: { gpus: job.gpus, gpuMemory: job.gpuMemory, cpus: job.cpus, memory: job.memory },
    priority: job.priority,
    preemptible: job.preemptible,
    timeLimitMs: job.timeLimitMs,
    maxRetries: job.maxRetries,
    attempts: job.attempts,
    snapshotId: job.snapshotId,
    privileged: job.privileged,
    hostNetwork: job.hostNetwork,
    mounts: job.mounts,
    capabilities: job.capabilities,
    deploymentId: job.deploymentId,
    gpuUuids: job.gpuUuids,
    exitCode: job.exitCode,
    mlflowRunId: job.mlflowRunId,
    gpuSeconds: job.gpuSeconds,
    submittedAt: job.submittedAt,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
    cancelRequestedAt: job.cancelRequestedAt,
  };
}

/** Writes the jobs `viewer` may see as JSON, looking each project's and user's name up once. */
export function jobJsonWriter(deps: { projects: Projects; users: Users }, viewer: UserRecord): (job: JobRecord) => JobJson {
  const projects = new Map(deps.projects.listFor(viewer).map(({ project }) => [project.id, project.name]));
  const users = new Map<number, string>();
  const username = (id: number) => {
    if (!users.has(id)) users.set(id, deps.users.byId(id)?.username ?? `user ${id}`);
    return users.get(id)!;
  };
  return (job) => jobJson(job, { project: projects.get(job.projectId) ?? `project ${job.projectId}`, user: username(job.userId) });
}
