import { readFileSync } from 'node:fs';
import { isIP, isIPv4 } from 'node:net';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from './lib/errors.ts';
import { parseByteSize } from './lib/byte-size.ts';
import { parseDuration } from './lib/duration.ts';

const duration = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const ms = typeof value === 'number' ? value : parseDuration(value);
  if (ms === undefined || !Number.isInteger(ms) || ms <= 0) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a duration like 30m, 12h or 7d` });
    return z.NEVER;
  }
  return ms;
});

const integer = z.coerce.number().int();
const flag = z.union([z.boolean(), z.enum(['true', 'false']).transform((value) => value === 'true')]);
const percent = z.coerce.number({ error: 'a percentage like 90' }).gt(0, 'a percentage above 0').max(100, 'a percentage up to 100');
const gpuCount = z.coerce.number({ error: 'a number of GPUs like 2 or 1.5' }).positive('a number of GPUs above 0').max(1024);

const byteSize = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const bytes = parseByteSize(value);
  if (bytes === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a size like 512MB or 2GB (or a number of bytes)` });
    return z.NEVER;
  }
  return bytes;
});

/**
 * GPU models a simulated inventory may name without their memory (`fake:4xH100`), with the power limit its
 * samples use; any other model needs its memory in the name (`fake:2xMI300-192GB`).
 */
const KNOWN_GPU_MODELS: Readonly<Record<string, { memoryGb: number; powerLimitWatts: number }>> = {
  H200: { memoryGb: 141, powerLimitWatts: 700 },
  H100: { memoryGb: 80, powerLimitWatts: 700 },
  A100: { memoryGb: 80, powerLimitWatts: 400 },
  L40S: { memoryGb: 48, powerLimitWatts: 350 },
  A6000: { memoryGb: 48, powerLimitWatts: 300 },
  A5000: { memoryGb: 24, powerLimitWatts: 230 },
  RTX4090: { memoryGb: 24, powerLimitWatts: 450 },
  RTX3090: { memoryGb: 24, powerLimitWatts: 350 },
  A10: { memoryGb: 24, powerLimitWatts: 150 },
  L4: { memoryGb: 24, powerLimitWatts: 72 },
  V100: { memoryGb: 32, powerLimitWatts: 300 },
  T4: { memoryGb: 16, powerLimitWatts: 70 },
};
const UNKNOWN_MODEL_POWER_WATTS = 300;
const MAX_SIMULATED_GPUS = 64;

export type SimulatedGpuModel = { model: string; memoryGb: number; powerLimitWatts: number };
export type GpuSource = { source: 'auto' } | { source: 'none' } | { source: 'simulated'; devices: SimulatedGpuModel[] };

function parseSimulatedGroup(group: string): SimulatedGpuModel[] | string {
  const match = /^(\d{1,3})x([A-Za-z0-9][A-Za-z0-9._-]{0,39}?)(?:-(\d{1,4})GB)?$/i.exec(group.trim());
  if (!match) return `"${group}" is not <count>x<model> like 4xH100 or 2xA100-40GB`;
  const [, count = '', model = '', memory] = match;
  if (Number(count) < 1) return `"${group}" asks for no GPUs`;
  const known = KNOWN_GPU_MODELS[model.toUpperCase()];
  const memoryGb = memory === undefined ? known?.memoryGb : Number(memory);
  if (memoryGb === undefined) {
    return `unknown GPU model "${model}": use one of ${Object.keys(KNOWN_GPU_MODELS).join(', ')} or give its memory like ${model}-24GB`;
  }
  if (memoryGb < 1) return `"${group}" has no memory`;
  const device = known
    ? { model: model.toUpperCase(), memoryGb, powerLimitWatts: known.powerLimitWatts }
    : { model, memoryGb, powerLimitWatts: UNKNOWN_MODEL_POWER_WATTS };
  return Array.from({ length: Number(count) }, () => device);
}

/** `auto` (nvidia-smi when it is on the PATH), `none`, or simulated GPUs: `fake:4xH100-80GB`, `fake:2xA100-40GB,1xL4`. */
const gpuSource = z.string().transform((value, ctx): GpuSource => {
  const spec = value.trim();
  if (spec === 'auto' || spec === 'none') return { source: spec };
  const fail = (message: string) => {
    ctx.addIssue({ code: 'custom', message });
    return z.NEVER;
  };
  if (!spec.startsWith('fake:')) return fail(`"${value}" is not auto, none or fake:<count>x<model>[-<N>GB][,...]`);
  const devices: SimulatedGpuModel[] = [];
  for (const group of spec.slice('fake:'.length).split(',')) {
    const parsed = parseSimulatedGroup(group);
    if (typeof parsed === 'string') return fail(parsed);
    devices.push(...parsed);
  }
  if (devices.length > MAX_SIMULATED_GPUS) return fail(`${devices.length} simulated GPUs are more than ${MAX_SIMULATED_GPUS}`);
  return { source: 'simulated', devices };
});

export type AddressRange = { address: string; prefix: number; family: 'ipv4' | 'ipv6' };

/** `10.0.0.0/8`, `fd00::/8`, or one address (`127.0.0.1`, a /32); `a,b` in one string or a YAML list. */
function parseAddressRange(text: string): AddressRange | string {
  const [address = '', prefixText, ...rest] = text.trim().split('/');
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return `"${text}" is not an address range like 10.0.0.0/8 or 127.0.0.1`;
  const bits = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? bits : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= bits)) return `"${text}" has a prefix length that is not 0 to ${bits}`;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

const addressRanges = z.union([z.string(), z.array(z.string())]).transform((value, ctx): AddressRange[] => {
  const entries = (Array.isArray(value) ? value : value.split(',')).filter((entry) => entry.trim() !== '');
  const ranges: AddressRange[] = [];
  for (const entry of entries) {
    const range = parseAddressRange(entry);
    if (typeof range === 'string') {
      ctx.addIssue({ code: 'custom', message: range });
      return z.NEVER;
    }
    ranges.push(range);
  }
  return ranges;
});

/**
 * The monitor's tiers, finest first: a chart reads the finest tier that reaches back to its start, so a coarser
 * tier kept for less time than a finer one would never be read.
 */
const RETENTION_TIERS = [
  ['monitoringRetentionRawMs', 'the raw rounds'],
  ['monitoringRetentionMinuteMs', 'the minute averages'],
  ['monitoringRetentionHourMs', 'the hour averages'],
] as const;

const configSchema = z.strictObject({
  dataDir: z.string().min(1),
  host: z.string().min(1),
  port: integer.min(0).max(65535),
  publicUrl: z.url().optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  maxBodyBytes: integer.min(1024),
  sessionTtlMs: duration,
  secureCookies: z.enum(['auto', 'always', 'never']),
  trustProxy: flag,
  loginMaxFailures: integer.min(1),
  loginWindowMs: duration,
  adminUsername: z.string().min(1),
  adminPassword: z.string().min(1).optional(),
  gpus: gpuSource,
  /**
   * Where a job's container reaches the appliance (`host.docker.internal`, Docker's bridge gateway): `auto` also
   * listens on the docker0 address when `host` is not a wildcard, `off` does not, an IPv4 address listens there too.
   */
  bridgeHost: z.string().refine((value) => value === 'auto' || value === 'off' || isIPv4(value), 'use auto, off or an IPv4 address like 172.17.0.1'),
  /** The largest code snapshot (the packed .tar.gz) `yard run` may upload. */
  snapshotMaxBytes: byteSize,
  /** A job's image missing on the engine is pulled from its registry (when one is reachable) before the job fails. */
  pullImages: flag,
  /** The image of a job that names none. */
  defaultJobImage: z.string().regex(/^\S+$/, 'an image reference like trainyard/python:bookworm'),
  /** The image of a deployment that names none: Trainyard's scoring server for scikit-learn models. */
  defaultServingImage: z.string().regex(/^\S+$/, 'an image reference like trainyard/python-serve:bookworm'),
  /** The most GPUs one user's (or one project's) jobs hold at once; a GPU-memory slice counts as its share. */
  gpuQuotaPerUser: gpuCount.optional(),
  gpuQuotaPerProject: gpuCount.optional(),
  /** Callers from these address ranges may read /metrics without a credential (a Prometheus server); none by default. */
  metricsAllowFrom: addressRanges,
  /** How often a running job's MLflow run gets its GPUs' utilization and memory as system metrics. */
  jobSystemMetricsIntervalMs: duration,
  /** How often the monitor samples the GPUs, the host and the jobs' containers (at least 1s). */
  sampleIntervalMs: duration.pipe(z.number().min(1_000, 'sample at most once a second, like 5s')),
  /** How long the monitor keeps its raw rounds, their minute averages and their hour averages (see RETENTION_TIERS). */
  monitoringRetentionRawMs: duration,
  monitoringRetentionMinuteMs: duration,
  monitoringRetentionHourMs: duration,
  /** Where fired and resolved alerts are POSTed as Slack/Mattermost-style JSON; none by default. */
  alertWebhookUrl: z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL like https://chat.example.com/hooks/abc' }).optional(),
  /** A GPU held by a job or a replica below this utilization (percent) for alertGpuIdleAfterMs is reported idle. */
  alertGpuIdlePercent: percent,
  alertGpuIdleAfterMs: duration,
  /** °C at which a GPU is reported too hot. */
  alertGpuTemperature: z.coerce.number({ error: 'a temperature in °C like 85' }).positive('a temperature in °C above 0'),
  /** How full (percent) the data directory's file system may get before it is reported. */
  alertDiskPercent: percent,
  alertDeploymentDegradedAfterMs: duration,
  /** This many replica restarts of one deployment within alertReplicaRestartWindowMs is a restart loop. */
  alertReplicaRestarts: integer.min(1),
  alertReplicaRestartWindowMs: duration,
  alertJobQueuedAfterMs: duration,
}).superRefine((config, ctx) => {
  for (let i = 1; i < RETENTION_TIERS.length; i++) {
    const [finerKey, finerKept] = RETENTION_TIERS[i - 1]!;
    const [key, kept] = RETENTION_TIERS[i]!;
    if (config[key] < config[finerKey]) {
      ctx.addIssue({ code: 'custom', path: [key], message: `${kept} must be kept at least as long as ${finerKept} (${finerKey})` });
    }
  }
});

export type Config = Readonly<z.infer<typeof configSchema>>;
export type ConfigInput = Partial<Record<keyof z.input<typeof configSchema>, unknown>>;

function defaultDataDir(env: NodeJS.ProcessEnv): string {
  return join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'trainyard');
}

const DEFAULTS: ConfigInput = {
  host: '127.0.0.1',
  port: 8700,
  logLevel: 'info',
  maxBodyBytes: 16 * 1024 * 1024,
  sessionTtlMs: '7d',
  secureCookies: 'auto',
  trustProxy: false,
  loginMaxFailures: 10,
  loginWindowMs: '15m',
  adminUsername: 'admin',
  gpus: 'auto',
  bridgeHost: 'auto',
  snapshotMaxBytes: 512 * 1024 * 1024,
  defaultJobImage: 'trainyard/python:bookworm',
  defaultServingImage: 'trainyard/python-serve:bookworm',
  pullImages: true,
  metricsAllowFrom: [],
  jobSystemMetricsIntervalMs: '10s',
  sampleIntervalMs: '5s',
  monitoringRetentionRawMs: '24h',
  monitoringRetentionMinuteMs: '30d',
  monitoringRetentionHourMs: '365d',
  alertGpuIdlePercent: 5,
  alertGpuIdleAfterMs: '30m',
  alertGpuTemperature: 85,
  alertDiskPercent: 90,
  alertDeploymentDegradedAfterMs: '5m',
  alertReplicaRestarts: 3,
  alertReplicaRestartWindowMs: '10m',
  alertJobQueuedAfterMs: '1h',
};

/** Each setting and the environment variable that sets it; the README's configuration table mirrors this. */
export const ENVIRONMENT: Record<string, keyof ConfigInput> = {
  TRAINYARD_DATA: 'dataDir',
  TRAINYARD_HOST: 'host',
  TRAINYARD_PORT: 'port',
  TRAINYARD_PUBLIC_URL: 'publicUrl',
  TRAINYARD_LOG_LEVEL: 'logLevel',
  TRAINYARD_MAX_BODY_BYTES: 'maxBodyBytes',
  TRAINYARD_SESSION_TTL: 'sessionTtlMs',
  TRAINYARD_SECURE_COOKIES: 'secureCookies',
  TRAINYARD_TRUST_PROXY: 'trustProxy',
  TRAINYARD_LOGIN_MAX_FAILURES: 'loginMaxFailures',
  TRAINYARD_LOGIN_WINDOW: 'loginWindowMs',
  TRAINYARD_ADMIN_USER: 'adminUsername',
  TRAINYARD_ADMIN_PASSWORD: 'adminPassword',
  TRAINYARD_GPUS: 'gpus',
  TRAINYARD_BRIDGE_HOST: 'bridgeHost',
  TRAINYARD_SNAPSHOT_MAX_BYTES: 'snapshotMaxBytes',
  TRAINYARD_DEFAULT_JOB_IMAGE: 'defaultJobImage',
  TRAINYARD_DEFAULT_SERVING_IMAGE: 'defaultServingImage',
  TRAINYARD_PULL_IMAGES: 'pullImages',
  TRAINYARD_GPU_QUOTA_PER_USER: 'gpuQuotaPerUser',
  TRAINYARD_GPU_QUOTA_PER_PROJECT: 'gpuQuotaPerProject',
  TRAINYARD_METRICS_ALLOW_FROM: 'metricsAllowFrom',
  TRAINYARD_JOB_SYSTEM_METRICS_INTERVAL: 'jobSystemMetricsIntervalMs',
  TRAINYARD_SAMPLE_INTERVAL: 'sampleIntervalMs',
  TRAINYARD_MONITORING_RETENTION_RAW: 'monitoringRetentionRawMs',
  TRAINYARD_MONITORING_RETENTION_MINUTE: 'monitoringRetentionMinuteMs',
  TRAINYARD_MONITORING_RETENTION_HOUR: 'monitoringRetentionHourMs',
  TRAINYARD_ALERT_WEBHOOK_URL: 'alertWebhookUrl',
  TRAINYARD_ALERT_GPU_IDLE_PERCENT: 'alertGpuIdlePercent',
  TRAINYARD_ALERT_GPU_IDLE_AFTER: 'alertGpuIdleAfterMs',
  TRAINYARD_ALERT_GPU_TEMPERATURE: 'alertGpuTemperature',
  TRAINYARD_ALERT_DISK_PERCENT: 'alertDiskPercent',
  TRAINYARD_ALERT_DEPLOYMENT_DEGRADED_AFTER: 'alertDeploymentDegradedAfterMs',
  TRAINYARD_ALERT_REPLICA_RESTARTS: 'alertReplicaRestarts',
  TRAINYARD_ALERT_REPLICA_RESTART_WINDOW: 'alertReplicaRestartWindowMs',
  TRAINYARD_ALERT_JOB_QUEUED_AFTER: 'alertJobQueuedAfterMs',
};

function readConfigFile(path: string): ConfigInput {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    throw new ConfigError(`config file ${path} is not valid YAML or JSON: ${(error as Error).message}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${path} must hold a mapping of settings`);
  }
  return parsed as ConfigInput;
}

function fromEnvironment(env: NodeJS.ProcessEnv): ConfigInput {
  const input: ConfigInput = {};
  for (const [variable, key] of Object.entries(ENVIRONMENT)) {
    const value = env[variable];
    if (value !== undefined && value !== '') input[key] = value;
  }
  return input;
}

function definedOnly(input: ConfigInput): ConfigInput {
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined));
}

/**
 * Settings come from, lowest first: defaults, the config file (`--config` or TRAINYARD_CONFIG, YAML or JSON),
 * the environment, then command-line flags. Any problem is a ConfigError with one line that names the setting.
 */
export function loadConfig(
  flags: ConfigInput & { config?: string } = {},
  env: NodeJS.ProcessEnv = process.env,
): Config {
  const { config: configPath = env.TRAINYARD_CONFIG, ...flagValues } = flags;
  const merged = {
    ...DEFAULTS,
    dataDir: defaultDataDir(env),
    ...(configPath ? readConfigFile(configPath) : {}),
    ...fromEnvironment(env),
    ...definedOnly(flagValues),
  };
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const key = issue.path.join('.') || 'config';
    const variable = Object.entries(ENVIRONMENT).find(([, name]) => name === key)?.[0];
    throw new ConfigError(`invalid setting ${key}${variable ? ` (${variable})` : ''}: ${issue.message}`);
  }
  return Object.freeze({ ...result.data, dataDir: resolve(result.data.dataDir) });
}
