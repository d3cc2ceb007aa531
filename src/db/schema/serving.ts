import { sql } from 'drizzle-orm';
import { index, integer, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
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
