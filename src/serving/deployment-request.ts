import { z } from 'zod';
import { parseDuration } from '../lib/duration.ts';
import { byteSize, imageReferenceSchema, MAX_GPUS_PER_JOB, workloadEnvSchema } from '../scheduler/job-request.ts';

export const MAX_REPLICAS = 8;
export const DEFAULT_SERVE_PORT = 8080;
export const DEFAULT_HEALTH_PATH = '/ping';
export const DEFAULT_READINESS_TIMEOUT_MS = 120_000;
const MAX_READINESS_TIMEOUT_MS = 3_600_000;
export const DEFAULT_SAMPLE_MAX_BYTES = 64 * 1024;
const MAX_SAMPLE_MAX_BYTES = 1024 * 1024;

/** A DNS label: it names the deployment in /serve/<name>/... and in its replicas' job names. */
export const deploymentNameSchema = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, 'a deployment name is 1-63 lowercase letters, digits or dashes, starting and ending with a letter or digit');

const readinessTimeout = z.union([z.string(), z.number().int().positive()]).transform((value, context) => {
  const ms = typeof value === 'number' ? value * 1000 : parseDuration(value);
  if (ms === undefined || ms < 1000 || ms > MAX_READINESS_TIMEOUT_MS) {
    context.addIssue({ code: 'custom', message: `readinessTimeout must be a duration from 1s to 1h like 90s or 5m (or seconds), got ${JSON.stringify(value)}` });
    return z.NEVER;
  }
  return ms;
});

const CANARY_WEIGHT_RULE = 'a whole percent from 1 to 99, or null to switch all traffic at once';
const SAMPLE_RATE_RULE = 'a share of calls from 0 to 1, like 0.1';

/** What an editor may change on a live deployment; each is set at creation too. */
const settingsFields = {
  public: z.boolean(),
  canaryWeight: z.number({ error: CANARY_WEIGHT_RULE }).int(CANARY_WEIGHT_RULE).min(1, CANARY_WEIGHT_RULE).max(99, CANARY_WEIGHT_RULE).nullable(),
  sampleRate: z.number({ error: SAMPLE_RATE_RULE }).min(0, SAMPLE_RATE_RULE).max(1, SAMPLE_RATE_RULE),
  sampleMaxBytes: byteSize('sampleMaxBytes').refine((bytes) => bytes <= MAX_SAMPLE_MAX_BYTES, `at most ${MAX_SAMPLE_MAX_BYTES} bytes (1MB)`),
};

/** A change of a deployment's settings (PATCH): at least one of them. */
export const deploymentSettingsSchema = z
  .strictObject({
    public: settingsFields.public.optional(),
    canaryWeight: settingsFields.canaryWeight.optional(),
    sampleRate: settingsFields.sampleRate.optional(),
    sampleMaxBytes: settingsFields.sampleMaxBytes.optional(),
  })
  .refine((settings) => Object.keys(settings).length > 0, { message: 'say what to change: public, canaryWeight, sampleRate or sampleMaxBytes' });

export type DeploymentSettings = z.output<typeof deploymentSettingsSchema>;

/** A deployment as people create it (API, CLI). The image defaults to the appliance's serving image. */
export const deploymentRequestSchema = z
  .strictObject({
    name: deploymentNameSchema,
    project: z.string().min(1).default('default'),
    /** `models:/<name>/<version>` or `models:/<name>@<alias>`. */
    model: z.string().min(1).max(1000),
    image: imageReferenceSchema.optional(),
    command: z.array(z.string().max(100_000), { error: 'command must be a list of arguments, like ["python", "serve.py"]' }).min(1).max(4096).optional(),
    port: z.number().int().min(1).max(65_535).default(DEFAULT_SERVE_PORT),
    env: workloadEnvSchema,
    gpus: z.number().int().min(0).max(MAX_GPUS_PER_JOB).default(0),
    gpuMemory: byteSize('gpuMemory').optional(),
    cpus: z.number().positive().max(1024).optional(),
    memory: byteSize('memory').optional(),
    replicas: z.number().int().min(1).max(MAX_REPLICAS).default(1),
    healthPath: z
      .string()
      .max(1000)
      .regex(/^\/[\x21-\x7e]*$/, 'healthPath must be a path starting with /, like /ping or /v2/health/ready')
      .default(DEFAULT_HEALTH_PATH),
    // zod 4 takes a default as the output: milliseconds.
    readinessTimeout: readinessTimeout.default(DEFAULT_READINESS_TIMEOUT_MS),
    public: settingsFields.public.default(false),
    canaryWeight: settingsFields.canaryWeight.default(null),
    sampleRate: settingsFields.sampleRate.default(0),
    sampleMaxBytes: settingsFields.sampleMaxBytes.default(DEFAULT_SAMPLE_MAX_BYTES),
  })
  .refine((request) => !(request.gpus > 0 && request.gpuMemory !== undefined), {
    message: 'ask for whole GPUs (gpus) or a slice of one GPU (gpuMemory), not both',
    path: ['gpuMemory'],
  });

export type DeploymentRequest = z.output<typeof deploymentRequestSchema>;
