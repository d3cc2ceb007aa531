import { sql } from 'drizzle-orm';
import { blob, index, integer, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { projects, users } from './auth.ts';

export const DEPLOYMENT_STATES = ['pending', 'starting', 'ready', 'degraded', 'stopped', 'failed'] as const;
export const DEPLOYMENT_EVENT_KINDS = ['state', 'replica', 'rollout', 'settings'] as const;

/**
 * A model version served by replica containers behind the proxy at /serve/<name>. Its replicas are jobs
 * (jobs.deployment_id); `version` is the one serving now, `previousVersion` the one a rollback returns to.
 */
export const deployments = sqliteTable(
  'deployments',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    projectId: integer('project_id')
      .notNull()
      .references(() => projects.id),
    name: text('name').notNull(),
    /** As given: `models:/<name>/<version>` or `models:/<name>@<alias>`. */
    modelUri: text('model_uri').notNull(),
    modelName: text('model_name').notNull(),
    /** The alias it follows; null for a fixed version. */
    alias: text('alias'),
    version: integer('version').notNull(),
    previousVersion: integer('previous_version'),
    /** The version the alias named when the deployment last followed it: a rollback does not move it, the alias does. */
    aliasVersion: integer('alias_version'),
    image: text('image').notNull(),
    /** The argv to run; null runs the image's own command. */
    command: text('command', { mode: 'json' }).$type<string[]>(),
    port: integer('port').notNull().default(8080),
    env: text('env', { mode: 'json' }).$type<Record<string, string>>().notNull().default(sql`'{}'`),
    gpus: integer('gpus').notNull().default(0),
    gpuMemory: integer('gpu_memory'),
    cpus: real('cpus'),
    memory: integer('memory'),
    replicas: integer('replicas').notNull().default(1),
    healthPath: text('health_path').notNull().default('/ping'),
    readinessTimeoutMs: integer('readiness_timeout_ms').notNull().default(120_000),
    /** Anyone may call it without a credential (an editor chose so). */
    public: integer('public', { mode: 'boolean' }).notNull().default(false),
    /**
     * Percent of the calls a version the alias moved to takes once its replicas are ready, until an editor promotes or
     * rolls it back; null switches all traffic at once.
     */
    canaryWeight: integer('canary_weight'),
    /** The share of calls (0 to 1) whose bodies are kept in request_samples. */
    sampleRate: real('sample_rate').notNull().default(0),
    /** The most bytes kept of each sampled body. */
    sampleMaxBytes: integer('sample_max_bytes').notNull().default(65_536),
    state: text('state', { enum: DEPLOYMENT_STATES }).notNull().default('pending'),
    reason: text('reason').notNull().default(''),
    /** When it was first ready: a replica that ends after that is replaced; before, the deployment fails. */
    readyAt: integer('ready_at'),
    createdBy: integer('created_by')
      .notNull()
      .references(() => users.id),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (table) => [
    // A name is taken while its deployment lives; a stopped or failed one stays as history and frees the name.
    uniqueIndex('deployments_live_name_idx').on(table.name).where(sql`state NOT IN ('stopped', 'failed')`),
    index('deployments_name_idx').on(table.name, table.id),
    index('deployments_project_idx').on(table.projectId),
  ],
);

/** A deployment's timeline: state changes, replica restarts, rollouts and rollbacks. */
export const deploymentEvents = sqliteTable(
  'deployment_events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    deploymentId: integer('deployment_id')
      .notNull()
      .references(() => deployments.id, { onDelete: 'cascade' }),
    at: integer('at').notNull(),
    kind: text('kind', { enum: DEPLOYMENT_EVENT_KINDS }).notNull(),
    message: text('message').notNull(),
  },
  (table) => [index('deployment_events_deployment_idx').on(table.deploymentId, table.id)],
);

export const ASYNC_REQUEST_STATES = ['queued', 'running', 'succeeded', 'failed'] as const;

/**
 * A call to a deployment taken now and made later (POST /serve/<name>/async/<path>): the request as it will be sent,
 * then the response the replica gave, kept until the retention sweep removes it. Queued calls go out in rowid order.
 */
export const asyncRequests = sqliteTable(
  'async_requests',
  {
    /** Random and URL-safe: it names the result in /serve/<name>/async/<id>. */
    id: text('id').primaryKey(),
    /** The deployment's name, and the project it belonged to when the call was taken: a name reused elsewhere is not sent to. */
    deployment: text('deployment').notNull(),
    projectId: integer('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    method: text('method').notNull(),
    /** Path and query as the replica gets them: `/invocations?format=json`. */
    path: text('path').notNull(),
    contentType: text('content_type'),
    body: blob('body', { mode: 'buffer' }).notNull(),
    state: text('state', { enum: ASYNC_REQUEST_STATES }).notNull().default('queued'),
    attempts: integer('attempts').notNull().default(0),
    /** A queued call is not sent before this time (the back-off after a failed attempt). */
    notBefore: integer('not_before').notNull(),
    responseStatus: integer('response_status'),
    responseContentType: text('response_content_type'),
    responseBody: blob('response_body', { mode: 'buffer' }),
    error: text('error'),
    createdAt: integer('created_at').notNull(),
    startedAt: integer('started_at'),
    finishedAt: integer('finished_at'),
  },
  (table) => [index('async_requests_queue_idx').on(table.state, table.deployment), index('async_requests_finished_idx').on(table.finishedAt)],
);

/**
 * Calls through the proxy whose bodies were sampled (a deployment's sampleRate), kept for drift checks: the first
 * sampleMaxBytes of each body, with its whole size. The newest of each deployment are kept; older ones are trimmed.
 */
export const requestSamples = sqliteTable(
  'request_samples',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    deploymentId: integer('deployment_id')
      .notNull()
      .references(() => deployments.id, { onDelete: 'cascade' }),
    /** When the call ended. */
    at: integer('at').notNull(),
    /** The model version that answered it (a canary's, or the serving one). */
    version: integer('version').notNull(),
    method: text('method').notNull(),
    /** Path and query as the replica got them. */
    path: text('path').notNull(),
    /** What the caller got: the replica's status, the proxy's own 502/503/504, or 499 when the caller hung up first. */
    status: integer('status').notNull(),
    latencyMs: real('latency_ms').notNull(),
    requestContentType: text('request_content_type'),
    requestBody: blob('request_body', { mode: 'buffer' }).notNull(),
    requestBytes: integer('request_bytes').notNull(),
    requestTruncated: integer('request_truncated', { mode: 'boolean' }).notNull(),
    responseContentType: text('response_content_type'),
    responseBody: blob('response_body', { mode: 'buffer' }).notNull(),
    responseBytes: integer('response_bytes').notNull(),
    responseTruncated: integer('response_truncated', { mode: 'boolean' }).notNull(),
  },
  (table) => [index('request_samples_deployment_idx').on(table.deploymentId, table.id)],
);
