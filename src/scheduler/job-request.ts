import { z } from 'zod';
import { capabilityNameSchema } from '../auth/project-policy.ts';
import { parseByteSize } from '../lib/byte-size.ts';
import { parseDuration } from '../lib/duration.ts';
import { OUTPUTS_PATH, WORKSPACE_PATH } from '../runtime/container-request.ts';
import { isNormalizedAbsolutePath } from '../runtime/request-validation.ts';

/** Names the appliance sets itself in every job's environment; a submission may not override them. */
export const RESERVED_ENV = /^(NVIDIA_|MLFLOW_|TRAINYARD_)/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** A Docker image reference: [registry[:port]/]name[:tag][@digest], lowercase path components. */
const IMAGE_REFERENCE = /^(?:[a-zA-Z0-9.-]+(?::\d+)?\/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

export const MAX_GPUS_PER_JOB = 64;
export const MAX_RETRIES = 10;
export const MAX_PRIORITY = 100;
const MAX_MOUNTS = 32;

/** Where a host folder may not go: Trainyard's own mounts, and the system folders the image and the engine need. */
const RESERVED_CONTAINER_PATHS = [WORKSPACE_PATH, OUTPUTS_PATH, '/bin', '/boot', '/dev', '/etc', '/lib', '/lib32', '/lib64', '/proc', '/run', '/sbin', '/sys', '/usr'];
const isReserved = (path: string) => path === '/' || RESERVED_CONTAINER_PATHS.some((folder) => path === folder || path.startsWith(`${folder}/`));

const absolutePath = (what: string) =>
  z
    .string()
    .max(4096)
    .refine(isNormalizedAbsolutePath, { error: (issue) => `${what} must be an absolute, normalized path (no "..", no trailing "/"), got ${JSON.stringify(issue.input)}`, abort: true });

/** A host folder in the container; the project's security policy must allow the host path. */
const mountSchema = z.strictObject({
  hostPath: absolutePath('hostPath'),
  containerPath: absolutePath('containerPath').refine((path) => !isReserved(path), {
    error: (issue) => `containerPath ${String(issue.input)} is reserved: a mount cannot go at /, nor at or below ${RESERVED_CONTAINER_PATHS.join(', ')}`,
  }),
  readOnly: z.boolean().default(true),
});

export const byteSize = (what: string) =>
  z.union([z.string(), z.number()]).transform((value, context) => {
    const bytes = parseByteSize(value);
    if (bytes === undefined) {
      context.addIssue({ code: 'custom', message: `${what} must be a size like 20GB or 512MB, got ${JSON.stringify(value)}` });
      return z.NEVER;
    }
    return bytes;
  });

const duration = z.union([z.string(), z.number().int().positive()]).transform((value, context) => {
  const ms = typeof value === 'number' ? value * 1000 : parseDuration(value);
  if (ms === undefined) {
    context.addIssue({ code: 'custom', message: `timeLimit must be a duration like 90s, 30m or 12h (or seconds), got ${JSON.stringify(value)}` });
    return z.NEVER;
  }
  return ms;
});

export const imageReferenceSchema = z
  .string()
  .max(512)
  .regex(IMAGE_REFERENCE, 'image must be a Docker image reference like python:3.12 or registry.local/team/train:1');

/** A workload's own environment variables: names the appliance sets are refused. */
export const workloadEnvSchema = z
  .record(
    z.string().regex(ENV_NAME, 'environment variable names are letters, digits and _, not starting with a digit').refine((name) => !RESERVED_ENV.test(name), {
      message: 'NVIDIA_*, MLFLOW_* and TRAINYARD_* are set by Trainyard',
    }),
    z.string().max(100_000),
  )
  .default({});

/** A job as people submit it (API, CLI); sizes and durations are text (`20GB`, `2h`) or bytes and seconds. */
export const jobSubmissionSchema = z
  .strictObject({
    project: z.string().min(1).default('default'),
    name: z.string().trim().min(1).max(200).optional(),
    image: imageReferenceSchema,
    command: z.array(z.string().max(100_000), { error: 'command must be a list of arguments, like ["python", "train.py"]' }).min(1).max(4096),
    env: workloadEnvSchema,
    gpus: z.number().int().min(0).max(MAX_GPUS_PER_JOB).default(0),
    gpuMemory: byteSize('gpuMemory').optional(),
    cpus: z.number().positive().max(1024).optional(),
    memory: byteSize('memory').optional(),
    priority: z.number().int().min(-MAX_PRIORITY).max(MAX_PRIORITY).default(0),
    preemptible: z.boolean().default(false),
    timeLimit: duration.optional(),
    retries: z.number().int().min(0).max(MAX_RETRIES).default(0),
    snapshotId: z.string().regex(/^[a-f0-9]{32}$/, 'snapshotId is the id an upload answered').optional(),
    // What only the project's security policy can allow.
    privileged: z.boolean().default(false),
    hostNetwork: z.boolean().default(false),
    mounts: z
      .array(mountSchema)
      .max(MAX_MOUNTS)
      .default([])
      .refine((mounts) => new Set(mounts.map((mount) => mount.containerPath)).size === mounts.length, 'two mounts have the same containerPath'),
    capabilities: z
      .array(capabilityNameSchema)
      .default([])
      .transform((names) => [...new Set(names)]),
  })
  .refine((job) => !(job.gpus > 0 && job.gpuMemory !== undefined), {
    message: 'ask for whole GPUs (gpus) or a slice of one GPU (gpuMemory), not both',
    path: ['gpuMemory'],
  });

export type JobSubmission = z.output<typeof jobSubmissionSchema>;

/** Replicas start before the queue's ordinary jobs (priority 0) and are never preempted. */
export const REPLICA_PRIORITY = 50;

/** A replica of a deployment as the deployment manager queues it, with what no user's submission can set. */
export interface ReplicaSubmission {
  deploymentId: number;
  projectId: number;
  /** Who deployed it: the replica counts against their quota. */
  userId: number;
  /** `serve:<deployment>#<n>`. */
  name: string;
  image: string;
  /** Empty: the image's own command. */
  command: string[];
  env: Record<string, string>;
  gpus: number;
  gpuMemory: number | null;
  cpus: number | null;
  memory: number | null;
  /** The model version's folder on the host, mounted read-only at /model. */
  modelPath: string;
  /** The container port published on 127.0.0.1 for the proxy. */
  servePort: number;
}
