import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { badRequest } from '../lib/errors.ts';
import type { ContainerRequest } from '../runtime/container-request.ts';
import type { SecurityAsks } from '../runtime/security-policy.ts';
import { containerName } from '../runtime/workload-labels.ts';
import type { JobRecord } from './job-queries.ts';

/** Where jobs' files live on the host: the folders the runtime may mount below. */
export interface JobFolders {
  /** `<data>/snapshots`: one unpacked code snapshot per folder, mounted read-only at /workspace. */
  snapshots: string;
  /** `<data>/outputs`: one folder per job, mounted read-write at /outputs. */
  outputs: string;
}

/** Where a replica finds its model version's files. */
export const MODEL_PATH = '/model';

export const jobFolders = (dataDir: string): JobFolders => ({ snapshots: join(dataDir, 'snapshots'), outputs: join(dataDir, 'outputs') });

/**
 * The container's workload id: the job, its attempt, and the appliance. Container names are global on the engine,
 * so two appliances (or an appliance's retries) never ask for the same one.
 */
const workloadIdOf = (job: Pick<JobRecord, 'id'>, attempt: number, instanceId: string) => `${job.id}-${attempt}-${instanceId}`;

export const jobContainerName = (job: Pick<JobRecord, 'id'>, attempt: number, instanceId: string) =>
  containerName({ kind: 'job', id: workloadIdOf(job, attempt, instanceId) });

type JobSecurityFields = Pick<JobRecord, 'privileged' | 'hostNetwork' | 'mounts' | 'capabilities'>;

/** What a job asks of its container that the project's security policy must allow. */
export function jobSecurityAsks(job: JobSecurityFields): SecurityAsks {
  return {
    ...(job.privileged && { privileged: true }),
    ...(job.hostNetwork && { network: 'host' as const }),
    ...(job.mounts.length > 0 && { mounts: job.mounts }),
    ...(job.capabilities.length > 0 && { capAdd: job.capabilities }),
  };
}

/**
 * The container for the next attempt of `job` (in the project named `project`) on `gpuUuids`, with `env` (MLflow's)
 * beside the job's own. Creates its output folder; a snapshot that is not (or no longer) on disk is a 400 the job
 * fails with.
 */
export function jobContainerRequest(
  job: JobRecord,
  placement: { project: string; gpuUuids: string[]; simulated: boolean; instanceId: string; folders: JobFolders; env?: Record<string, string> },
): ContainerRequest {
  const { folders } = placement;
  const outputs = join(folders.outputs, String(job.id));
  mkdirSync(outputs, { recursive: true });
  // The image decides the user a job runs as (trainyard/python: uid 1000), so the folder is open to any user; the
  // data dir above it (0700) keeps other users of the host out.
  chmodSync(outputs, 0o777);
  let workspace: ContainerRequest['workspace'];
  if (job.snapshotId !== null) {
    const hostPath = join(folders.snapshots, job.snapshotId);
    if (!existsSync(hostPath)) throw badRequest(`the code snapshot ${job.snapshotId} is not on this host any more`);
    workspace = { hostPath, readOnly: true };
  }
  return {
    kind: 'job',
    id: workloadIdOf(job, job.attempts + 1, placement.instanceId),
    project: placement.project,
    image: job.image,
    // A replica may leave the command to its image; a user's job always names one.
    ...(job.command.length > 0 && { command: job.command }),
    env: { ...job.env, ...placement.env, TRAINYARD_JOB_ID: String(job.id) },
    ...(placement.gpuUuids.length > 0 && { gpus: { uuids: placement.gpuUuids, simulated: placement.simulated } }),
    ...(job.cpus !== null && { cpus: job.cpus }),
    ...(job.memory !== null && { memoryBytes: job.memory }),
    ...(workspace && { workspace, workingDir: '/workspace' }),
    outputs: { hostPath: outputs },
    ...jobSecurityAsks(job),
    ...replicaParts(job),
  };
}

/** Only the deployment manager sets these: the model folder, read-only at /model, and the port the proxy calls. */
function replicaParts(job: JobRecord): Pick<ContainerRequest, 'mounts' | 'ports'> {
  if (job.modelPath === null || job.servePort === null) return {};
  return {
    mounts: [...job.mounts, { hostPath: job.modelPath, containerPath: MODEL_PATH, readOnly: true }],
    ports: [job.servePort],
  };
}
