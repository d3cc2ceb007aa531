import { sql } from 'drizzle-orm';
import { blob, index, integer, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { projects, users } from './auth.ts';

export const DEPLOYMENT_STATES = ['pending', 'starting', 'ready', 'degraded', 'stopped', 'failed'] as const;
export const DEPLOYMENT_EVENT_KINDS = ['state', 'replica', 'rollout'] as const;

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
