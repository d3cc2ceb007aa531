import type { Projects } from '../auth/projects.ts';
import type { UserRecord } from '../auth/user-queries.ts';
import type { Users } from '../auth/users.ts';
import type { JobRecord, JobState } from '../scheduler/jobs.ts';
import type { DeploymentEventRecord, DeploymentRecord, DeploymentState } from './deployment-queries.ts';
import type { DeploymentStatus } from './deployments.ts';
import { replicaIdentity } from './replica-jobs.ts';

/** A deployment as the API answers and the CLI reads it: names for ids, sizes in bytes, times in ms since the epoch. */
export interface DeploymentJson {
  name: string;
  project: string;
  /** As it was created: `models:/<name>/<version>` or `models:/<name>@<alias>`. */
  model: string;
  alias: string | null;
  /** The version serving now, and the one a rollback returns to. */
  version: number;
  previousVersion: number | null;
  /** The version being rolled out, while one is. */
  rollout: number | null;
  /** The rollout once it takes `weight` percent of the calls, until an editor promotes or rolls it back. */
  canary: { version: number; weight: number; readyReplicas: number } | null;
  image: string;
  /** Null: the image's own command. */
  command: string[] | null;
  port: number;
  env: Record<string, string>;
  resources: { gpus: number; gpuMemory: number | null; cpus: number | null; memory: number | null };
  replicas: number;
  readyReplicas: number;
  healthPath: string;
  readinessTimeoutMs: number;
  public: boolean;
  /** Percent of the calls a version the alias moves to takes first, as a canary; null to switch all at once. */
  canaryWeight: number | null;
  /** The share of calls (0 to 1) whose bodies are sampled, and the most bytes kept of each body. */
  sampleRate: number;
  sampleMaxBytes: number;
  state: DeploymentState;
  reason: string;
  /** Where the proxy serves it, on the appliance's own address. */
  path: string;
  createdBy: string;
  createdAt: number;
  updatedAt: number;
  /** When it first became ready. */
  readyAt: number | null;
}

export interface ReplicaJson {
  job: number;
  slot: number;
  version: number;
  state: JobState;
  ready: boolean;
  /** The replica's published port on the appliance's host; only the proxy calls it. */
  url: string | null;
  reason: string;
}

export interface DeploymentEventJson {
  at: number;
  kind: DeploymentEventRecord['kind'];
  message: string;
}

export const servePath = (name: string) => `/serve/${name}`;

/** Writes deployments as JSON for `viewer`, looking each project's and user's name up once. */
export function deploymentJsonWriter(deps: { projects: Projects; users: Users }, viewer: UserRecord) {
  const projects = new Map(deps.projects.listFor(viewer).map(({ project }) => [project.id, project.name]));
  const users = new Map<number, string>();
  const username = (id: number) => {
    if (!users.has(id)) users.set(id, deps.users.byId(id)?.username ?? `user ${id}`);
    return users.get(id)!;
  };
  return (deployment: DeploymentRecord, status: DeploymentStatus): DeploymentJson => ({
    name: deployment.name,
    project: projects.get(deployment.projectId) ?? `project ${deployment.projectId}`,
    model: deployment.modelUri,
    alias: deployment.alias,
    version: deployment.version,
    previousVersion: deployment.previousVersion,
    rollout: status.rollout,
    canary: status.canary && { version: status.canary.version, weight: status.canary.weight, readyReplicas: status.canary.upstreams.length },
    image: deployment.image,
    command: deployment.command,
    port: deployment.port,
    env: deployment.env,
    resources: { gpus: deployment.gpus, gpuMemory: deployment.gpuMemory, cpus: deployment.cpus, memory: deployment.memory },
    replicas: deployment.replicas,
    readyReplicas: status.upstreams.length,
    healthPath: deployment.healthPath,
    readinessTimeoutMs: deployment.readinessTimeoutMs,
    public: deployment.public,
    canaryWeight: deployment.canaryWeight,
    sampleRate: deployment.sampleRate,
    sampleMaxBytes: deployment.sampleMaxBytes,
    state: deployment.state,
    reason: deployment.reason,
    path: servePath(deployment.name),
    createdBy: username(deployment.createdBy),
    createdAt: deployment.createdAt,
    updatedAt: deployment.updatedAt,
    readyAt: deployment.readyAt,
  });
}

/** The deployment's unfinished replica jobs, with what the manager knows of their readiness. */
export function replicaJson(job: JobRecord, status: DeploymentStatus): ReplicaJson {
  const known = status.replicas.find(({ jobId }) => jobId === job.id);
  return { job: job.id, ...replicaIdentity(job), state: job.state, ready: known?.ready ?? false, url: known?.url ?? null, reason: job.reason };
}

export const deploymentEventJson = ({ at, kind, message }: DeploymentEventRecord): DeploymentEventJson => ({ at, kind, message });
