import { sql } from 'drizzle-orm';
import { index, integer, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { projects, users } from './auth.ts';
import { deployments } from './serving.ts';

export const JOB_STATES = ['queued', 'starting', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out', 'lost'] as const;

/** A host folder a job asked to have at `containerPath`. */
export interface JobMount {
  hostPath: string;
  containerPath: string;
  readOnly: boolean;
}

/** A batch job: what to run, what it needs, where it stands. Resources are bytes and CPU counts. */
export const jobs = sqliteTable(
  'jobs',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    projectId: integer('project_id')
      .notNull()
      .references(() => projects.id),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id),
    name: text('name').notNull(),
    image: text('image').notNull(),
    command: text('command', { mode: 'json' }).$type<string[]>().notNull(),
    env: text('env', { mode: 'json' }).$type<Record<string, string>>().notNull().default(sql`'{}'`),
    /** Whole GPUs, never shared; 0 with gpuMemory set means a slice of one GPU's memory. */
    gpus: integer('gpus').notNull().default(0),
    gpuMemory: integer('gpu_memory'),
    cpus: real('cpus'),
    memory: integer('memory'),
    priority: integer('priority').notNull().default(0),
    /** A higher-priority job may stop it (SIGTERM, grace, back to the queue) to start sooner. */
    preemptible: integer('preemptible', { mode: 'boolean' }).notNull().default(false),
    timeLimitMs: integer('time_limit_ms'),
    maxRetries: integer('max_retries').notNull().default(0),
    /** Starts so far, retries and requeues after preemption included. */
    attempts: integer('attempts').notNull().default(0),
    snapshotId: text('snapshot_id'),
    /** What only the project's security policy can allow: privileged mode, the host network, host folders, capabilities. */
    privileged: integer('privileged', { mode: 'boolean' }).notNull().default(false),
    hostNetwork: integer('host_network', { mode: 'boolean' }).notNull().default(false),
    mounts: text('mounts', { mode: 'json' }).$type<JobMount[]>().notNull().default(sql`'[]'`),
    /** Capability names without `CAP_`, e.g. `SYS_PTRACE`. */
    capabilities: text('capabilities', { mode: 'json' }).$type<string[]>().notNull().default(sql`'[]'`),
    state: text('state', { enum: JOB_STATES }).notNull().default('queued'),
    /** Why it is in its state: the waiting reason while queued, the failure once finished. */
    reason: text('reason').notNull().default(''),
    gpuUuids: text('gpu_uuids', { mode: 'json' }).$type<string[]>().notNull().default(sql`'[]'`),
    containerId: text('container_id'),
    exitCode: integer('exit_code'),
    mlflowRunId: text('mlflow_run_id'),
    submittedAt: integer('submitted_at').notNull(),
    startedAt: integer('started_at'),
    finishedAt: integer('finished_at'),
    /** A retry waits for its back-off: not placed before this time. */
    notBefore: integer('not_before'),
    cancelRequestedAt: integer('cancel_requested_at'),
    /** Allocated GPU time of every attempt, for accounting. */
    gpuSeconds: real('gpu_seconds').notNull().default(0),
    /** A replica of this deployment; only the deployment manager sets it, with the two fields below. */
    deploymentId: integer('deployment_id').references(() => deployments.id),
    /** The model version's folder on the host, mounted read-only at /model. */
    modelPath: text('model_path'),
    /** The container port published on 127.0.0.1 for the proxy. */
    servePort: integer('serve_port'),
  },
  (table) => [
    index('jobs_state_idx').on(table.state, table.priority, table.submittedAt),
    index('jobs_project_idx').on(table.projectId, table.submittedAt),
    index('jobs_user_idx').on(table.userId, table.submittedAt),
    index('jobs_deployment_idx').on(table.deploymentId),
  ],
);

/** Every state change of a job, with its time and reason. */
export const jobEvents = sqliteTable(
  'job_events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    jobId: integer('job_id')
      .notNull()
      .references(() => jobs.id, { onDelete: 'cascade' }),
    at: integer('at').notNull(),
    fromState: text('from_state', { enum: JOB_STATES }),
    toState: text('to_state', { enum: JOB_STATES }).notNull(),
    reason: text('reason').notNull().default(''),
  },
  (table) => [index('job_events_job_idx').on(table.jobId, table.id)],
);
