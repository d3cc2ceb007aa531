import { sql } from 'drizzle-orm';
import { check, index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';

export const users = sqliteTable('users', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  username: text('username').notNull().unique(),
  displayName: text('display_name').notNull().default(''),
  passwordHash: text('password_hash').notNull(),
  isAdmin: integer('is_admin', { mode: 'boolean' }).notNull().default(false),
  disabledAt: integer('disabled_at'),
  createdAt: integer('created_at').notNull(),
});

export const sessions = sqliteTable(
  'sessions',
  {
    idHash: text('id_hash').primaryKey(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    csrfToken: text('csrf_token').notNull(),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
    ip: text('ip').notNull().default(''),
    userAgent: text('user_agent').notNull().default(''),
  },
  (table) => [index('sessions_user_idx').on(table.userId)],
);

export const apiTokens = sqliteTable(
  'api_tokens',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    tokenHash: text('token_hash').notNull().unique(),
    prefix: text('prefix').notNull(),
    scope: text('scope', { enum: ['read', 'write'] }).notNull(),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at'),
    lastUsedAt: integer('last_used_at'),
    revokedAt: integer('revoked_at'),
    /** Set for a job's token: it may write to this MLflow run only. */
    runUuid: text('run_uuid'),
    /**
     * Set for a deployment's token: it may call /serve/<deploymentName>/... and nothing else, while a deployment of
     * that name lives in this project. Bound to the name rather than one deployment's id, so that undeploying and
     * deploying the name again in the project keeps its callers' tokens; another project's deployment of the name never matches.
     */
    deploymentProjectId: integer('deployment_project_id').references(() => projects.id, { onDelete: 'cascade' }),
    deploymentName: text('deployment_name'),
  },
  (table) => [
    index('api_tokens_user_idx').on(table.userId),
    index('api_tokens_run_idx').on(table.runUuid),
    index('api_tokens_deployment_idx').on(table.deploymentProjectId, table.deploymentName),
    check('api_tokens_scope', sql`scope in ('read', 'write')`),
  ],
);

export const projects = sqliteTable('projects', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull().unique(),
  description: text('description').notNull().default(''),
  createdAt: integer('created_at').notNull(),
});

export const projectMembers = sqliteTable(
  'project_members',
  {
    projectId: integer('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    role: text('role', { enum: ['viewer', 'editor', 'admin'] }).notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.projectId, table.userId] }),
    index('project_members_user_idx').on(table.userId),
    check('project_members_role', sql`role in ('viewer', 'editor', 'admin')`),
  ],
);

/** What a site admin allows a project's containers beyond the safe defaults; a project without a row has the defaults. */
export const projectSecurityPolicies = sqliteTable('project_security_policies', {
  projectId: integer('project_id')
    .primaryKey()
    .references(() => projects.id, { onDelete: 'cascade' }),
  allowPrivileged: integer('allow_privileged', { mode: 'boolean' }).notNull().default(false),
  allowHostNetwork: integer('allow_host_network', { mode: 'boolean' }).notNull().default(false),
  /** Absolute, normalized host folders. */
  allowedHostPaths: text('allowed_host_paths', { mode: 'json' }).$type<string[]>().notNull().default(sql`'[]'`),
  /** Capability names without `CAP_`, e.g. `SYS_PTRACE`. */
  allowedCapabilities: text('allowed_capabilities', { mode: 'json' }).$type<string[]>().notNull().default(sql`'[]'`),
  updatedAt: integer('updated_at').notNull(),
  updatedBy: text('updated_by').notNull(),
});
