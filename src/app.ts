import { accessSync, constants, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import type { Config } from './config.ts';
import { createBus, type Bus } from './lib/bus.ts';
import { ConfigError } from './lib/errors.ts';
import { createLog, type Log } from './lib/log.ts';
import { openDatabase, type Db } from './db/connection.ts';
import { createAccounting, type Accounting } from './accounting/accounting.ts';
import { createAlerts, type Alerts } from './alerts/alerts.ts';
import { createAudit, type Audit } from './audit/audit.ts';
import { createCredentials, type Credentials } from './auth/credentials.ts';
import { createLoginLimiter } from './auth/login-limiter.ts';
import { createProjects, type Projects } from './auth/projects.ts';
import { createSessions, type Sessions } from './auth/sessions.ts';
import { createTokens, type Tokens } from './auth/tokens.ts';
import { createUsers, type Users } from './auth/users.ts';
import { createArtifactStore, type ArtifactStore } from './artifacts/artifact-store.ts';
import { createGpuInventory, type GpuInventory } from './gpu/gpu-inventory.ts';
import { createHostReader } from './monitoring/host-readings.ts';
import { createMonitoring, type Monitoring } from './monitoring/monitoring.ts';
import { createRegistry, type Registry } from './registry/registry.ts';
import { createContainerRuntime, type ContainerRuntime } from './runtime/container-runtime.ts';
import { createDockerClient } from './runtime/docker-client.ts';
import { readInstanceId } from './scheduler/instance-id.ts';
import { jobFolders } from './scheduler/job-container.ts';
import { createJobTracking } from './scheduler/job-tracking.ts';
import { createJobLogs, type JobLogs } from './scheduler/job-logs.ts';
import { createJobs, type Jobs } from './scheduler/jobs.ts';
import { createScheduler, type Scheduler } from './scheduler/scheduler.ts';
import { createSnapshotStore, type SnapshotStore } from './scheduler/snapshot-store.ts';
import { createAsyncInference, type AsyncInference } from './serving/async-inference.ts';
import { createDeploymentManager, type DeploymentManager } from './serving/deployment-manager.ts';
import { createDeployments, type Deployments } from './serving/deployments.ts';
import { createRequestSamples, type RequestSamples } from './serving/request-samples.ts';
import { createServingMetrics, type ServingMetrics } from './serving/serving-metrics.ts';
import { createTracking, type Tracking } from './tracking/tracking.ts';

/** Everything the appliance is made of, built once and passed to whoever needs a part of it. */
export interface App {
  config: Config;
  log: Log;
  now: () => number;
  bus: Bus;
  db: Db;
  /** Created on first use: most requests never touch the engine. */
  readonly docker: Dockerode;
  audit: Audit;
  users: Users;
  sessions: Sessions;
  tokens: Tokens;
  projects: Projects;
  credentials: Credentials;
  tracking: Tracking;
  artifacts: ArtifactStore;
  registry: Registry;
  gpus: GpuInventory;
  jobs: Jobs;
  jobLogs: JobLogs;
  snapshots: SnapshotStore;
  /** Containers on the local engine, for this appliance's instance id; created on first use, like `docker`. */
  readonly runtime: ContainerRuntime;
  /** Runs the queued jobs once started (the appliance starts it; tests may not). */
  readonly scheduler: Scheduler;
  /** Models served behind /serve/<name>: their records, and `target()` for the proxy. */
  deployments: Deployments;
  /** Keeps the deployments' replicas running, probed and rolled out once started (beside the scheduler). */
  readonly deploymentManager: DeploymentManager;
  /** Calls through /serve/<name>, per deployment: count, status classes, latency; the dashboard and /metrics read them. */
  servingMetrics: ServingMetrics;
  /** Calls to deployments queued in the database and sent once started (beside the deployment manager); created on first use. */
  readonly asyncInference: AsyncInference;
  /** Calls whose bodies a deployment's sampleRate picked, for drift checks: kept by the proxy, read by the API and pages. */
  requestSamples: RequestSamples;
  /** The sampler of GPUs, host and containers (publishes `monitoring.sample`) and its stored series; created on first use. */
  readonly monitoring: Monitoring;
  /** Alert rules evaluated on every `monitoring.sample` once started; the open and past alerts. */
  alerts: Alerts;
  /** GPU-, CPU- and memory-hours per job and day; records every `monitoring.sample` round from the start. */
  accounting: Accounting;
  close(): void;
}

export interface AppOptions {
  log?: Log;
  now?: () => number;
}

function prepareDataDir(dataDir: string): void {
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    accessSync(dataDir, constants.W_OK);
  } catch (error) {
    throw new ConfigError(`data directory ${dataDir} cannot be written: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** The only place that wires parts together. Opens the database; migrating it is the caller's next step. */
export function createApp(config: Config, options: AppOptions = {}): App {
  const log = options.log ?? createLog(config.logLevel);
  const now = options.now ?? Date.now;
  prepareDataDir(config.dataDir);
  const instanceId = readInstanceId(config.dataDir);
  const db = openDatabase(join(config.dataDir, 'trainyard.db'));

  const bus = createBus();
  const audit = createAudit({ db, bus, now });
  const sessions = createSessions({ db, now, ttlMs: config.sessionTtlMs });
  const tokens = createTokens({ db, audit, now });
  const projects = createProjects({ db, audit, now, dataDir: config.dataDir });
  const users = createUsers({ db, audit, projects, now, onCredentialsChanged: (user) => sessions.endAllOf(user) });
  const limiter = createLoginLimiter({ now, maxFailures: config.loginMaxFailures, windowMs: config.loginWindowMs });
  const credentials = createCredentials({ users, tokens, sessions, limiter, audit });
  const tracking = createTracking({ db, bus, now, projects, audit });
  const artifacts = createArtifactStore({ root: join(config.dataDir, 'artifacts'), now });
  const registry = createRegistry({ db, now, projects, audit });

  const gpus = createGpuInventory(config.gpus, { log, now });
  const jobs = createJobs({ db, now, bus, projects, audit });
  const jobLogs = createJobLogs({ root: join(config.dataDir, 'job-logs'), bus });
  let docker: Dockerode | undefined;
  let runtime: ContainerRuntime | undefined;
  let scheduler: Scheduler | undefined;
  let deploymentManager: DeploymentManager | undefined;
  let asyncInference: AsyncInference | undefined;
  let monitoring: Monitoring | undefined;
  const folders = jobFolders(config.dataDir);
  const requestSamples = createRequestSamples({ db, now, log });
  const deployments = createDeployments({ db, now, bus, projects, users, registry, audit, artifactsRoot: artifacts.root });
  const accounting = createAccounting({ db, log, now, jobs, gpus, projects, users });
  bus.subscribe('monitoring.sample', accounting.record);
  return {
    config,
    log,
    now,
    bus,
    db,
    get docker() {
      return (docker ??= createDockerClient());
    },
    audit,
    users,
    sessions,
    tokens,
    projects,
    credentials,
    tracking,
    artifacts,
    registry,
    gpus,
    jobs,
    jobLogs,
    get runtime() {
      // Below the artifacts root only a replica's model folder is mounted: users' mounts there are refused at submission.
      const mountRoots = [folders.snapshots, folders.outputs, artifacts.root];
      return (runtime ??= createContainerRuntime({ docker: this.docker, instanceId, log, mountRoots, pullImages: config.pullImages }));
    },
    get scheduler() {
      // The runtime (and with it the Docker client) is made only once there is a job to run.
      scheduler ??= createScheduler({
        jobs, jobLogs, gpus, log, now, bus, config, instanceId,
        runtime: () => this.runtime,
        tracking: createJobTracking({ tracking, tokens, users, projects, config, now, log }),
      });
      return scheduler;
    },
    deployments,
    servingMetrics: createServingMetrics({ now }),
    get deploymentManager() {
      deploymentManager ??= createDeploymentManager({ deployments, jobs, jobLogs, bus, log, runtime: () => this.runtime });
      return deploymentManager;
    },
    get asyncInference() {
      return (asyncInference ??= createAsyncInference({ db, now, log, target: (name) => deployments.target(name) }));
    },
    requestSamples,
    get monitoring() {
      monitoring ??= createMonitoring({
        db, bus, log, now, gpus, jobs,
        containers: () => this.runtime,
        readHost: createHostReader(config.dataDir),
        intervalMs: config.sampleIntervalMs,
        retention: { rawMs: config.monitoringRetentionRawMs, minuteMs: config.monitoringRetentionMinuteMs, hourMs: config.monitoringRetentionHourMs },
      });
      return monitoring;
    },
    accounting,
    alerts: createAlerts({ db, bus, log, jobs, deployments, projects, config }),
    snapshots: createSnapshotStore({ root: join(config.dataDir, 'snapshots'), db, now, maxBytes: config.snapshotMaxBytes }),
    close() {
      requestSamples.flush();
      db.$client.close();
    },
  };
}
