import { accessSync, constants, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import type { Config } from './config.ts';
import { createBus, type Bus } from './lib/bus.ts';
import { ConfigError } from './lib/errors.ts';
import { createLog, type Log } from './lib/log.ts';
import { openDatabase, type Db } from './db/connection.ts';
import { createAudit, type Audit } from './audit/audit.ts';
import { createCredentials, type Credentials } from './auth/credentials.ts';
import { createLoginLimiter } from './auth/login-limiter.ts';
import { createProjects, type Projects } from './auth/projects.ts';
import { createSessions, type Sessions } from './auth/sessions.ts';
import { createTokens, type Tokens } from './auth/tokens.ts';
import { createUsers, type Users } from './auth/users.ts';
import { createArtifactStore, type ArtifactStore } from './artifacts/artifact-store.ts';
import { createGpuInventory, type GpuInventory } from './gpu/gpu-inventory.ts';
import { createRegistry, type Registry } from './registry/registry.ts';
import { createDockerClient } from './runtime/docker-client.ts';
import { createJobLogs, type JobLogs } from './scheduler/job-logs.ts';
import { createJobs, type Jobs } from './scheduler/jobs.ts';
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
  const db = openDatabase(join(config.dataDir, 'trainyard.db'));

  const bus = createBus();
  const audit = createAudit({ db, bus, now });
  const sessions = createSessions({ db, now, ttlMs: config.sessionTtlMs });
  const tokens = createTokens({ db, audit, now });
  const projects = createProjects({ db, audit, now });
  const users = createUsers({ db, audit, projects, now, onCredentialsChanged: (user) => sessions.endAllOf(user) });
  const limiter = createLoginLimiter({ now, maxFailures: config.loginMaxFailures, windowMs: config.loginWindowMs });
  const credentials = createCredentials({ users, tokens, sessions, limiter, audit });
  const tracking = createTracking({ db, bus, now, projects, audit });
  const artifacts = createArtifactStore({ root: join(config.dataDir, 'artifacts'), now });
  const registry = createRegistry({ db, now, projects, audit });

  let docker: Dockerode | undefined;
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
    gpus: createGpuInventory(config.gpus, { log, now }),
    jobs: createJobs({ db, now, bus, projects, audit }),
    jobLogs: createJobLogs({ root: join(config.dataDir, 'job-logs'), bus }),
    close() {
      db.$client.close();
    },
  };
}
