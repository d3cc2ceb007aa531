import type { ReplicaSubmission } from '../scheduler/job-request.ts';
import type { JobRecord } from '../scheduler/jobs.ts';
import type { DeploymentRecord } from './deployment-queries.ts';
import { versionUri } from './model-uri.ts';

/** Set in every replica's environment (TRAINYARD_* cannot be set by a user), and read back to know a replica. */
const ENV = { deployment: 'TRAINYARD_DEPLOYMENT', modelUri: 'TRAINYARD_MODEL_URI', version: 'TRAINYARD_MODEL_VERSION', slot: 'TRAINYARD_REPLICA' } as const;

/** Which replica a job is: its place among the deployment's replicas (1..replicas) and the version it serves. */
export interface ReplicaIdentity {
  slot: number;
  version: number;
}

export const replicaJobName = (deployment: string, slot: number) => `serve:${deployment}#${slot}`;

/**
 * The job that runs replica `slot` of `deployment`, serving `version` from `modelPath`. The scoring server and
 * most others listen on $PORT: it is the container port unless the deployment's env says otherwise.
 */
export function replicaSubmission(deployment: DeploymentRecord, replica: ReplicaIdentity & { modelPath: string }): ReplicaSubmission {
  return {
    deploymentId: deployment.id,
    projectId: deployment.projectId,
    userId: deployment.createdBy,
    name: replicaJobName(deployment.name, replica.slot),
    image: deployment.image,
    command: deployment.command ?? [],
    env: {
      PORT: String(deployment.port),
      ...deployment.env,
      [ENV.deployment]: deployment.name,
      [ENV.modelUri]: versionUri(deployment.modelName, replica.version),
      [ENV.version]: String(replica.version),
      [ENV.slot]: String(replica.slot),
    },
    gpus: deployment.gpus,
    gpuMemory: deployment.gpuMemory,
    cpus: deployment.cpus,
    memory: deployment.memory,
    modelPath: replica.modelPath,
    servePort: deployment.port,
  };
}

export function replicaIdentity(job: JobRecord): ReplicaIdentity {
  return { slot: Number(job.env[ENV.slot]), version: Number(job.env[ENV.version]) };
}
