import { foreignKey, index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { projects } from './auth.ts';

/** Registered models have a stable id so that a rename touches one row. */
export const registeredModels = sqliteTable(
  'registered_models',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    projectId: integer('project_id')
      .notNull()
      .references(() => projects.id),
    name: text('name').notNull().unique(),
    description: text('description').notNull().default(''),
    creationTimestamp: integer('creation_timestamp').notNull(),
    lastUpdatedTimestamp: integer('last_updated_timestamp').notNull(),
  },
  (table) => [index('registered_models_project_idx').on(table.projectId)],
);

export const registeredModelTags = sqliteTable(
  'registered_model_tags',
  {
    modelId: integer('model_id')
      .notNull()
      .references(() => registeredModels.id, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    value: text('value').notNull(),
  },
  (table) => [primaryKey({ columns: [table.modelId, table.key] })],
);

export const modelVersions = sqliteTable(
  'model_versions',
  {
    modelId: integer('model_id')
      .notNull()
      .references(() => registeredModels.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    description: text('description').notNull().default(''),
    userId: text('user_id').notNull().default(''),
    currentStage: text('current_stage', { enum: ['None', 'Staging', 'Production', 'Archived'] }).notNull().default('None'),
    source: text('source').notNull(),
    runId: text('run_id').notNull().default(''),
    runLink: text('run_link').notNull().default(''),
    /** What `get-download-uri` answers: the artifact URI the source resolved to. */
    storageLocation: text('storage_location').notNull(),
    loggedModelId: text('logged_model_id'),
    status: text('status', { enum: ['PENDING_REGISTRATION', 'FAILED_REGISTRATION', 'READY'] }).notNull().default('READY'),
    statusMessage: text('status_message'),
    creationTimestamp: integer('creation_timestamp').notNull(),
    lastUpdatedTimestamp: integer('last_updated_timestamp').notNull(),
  },
  (table) => [primaryKey({ columns: [table.modelId, table.version] }), index('model_versions_run_idx').on(table.runId)],
);

export const modelVersionTags = sqliteTable(
  'model_version_tags',
  {
    modelId: integer('model_id').notNull(),
    version: integer('version').notNull(),
    key: text('key').notNull(),
    value: text('value').notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.modelId, table.version, table.key] }),
    foreignKey({ columns: [table.modelId, table.version], foreignColumns: [modelVersions.modelId, modelVersions.version] }).onDelete('cascade'),
  ],
);

export const registeredModelAliases = sqliteTable(
  'registered_model_aliases',
  {
    modelId: integer('model_id')
      .notNull()
      .references(() => registeredModels.id, { onDelete: 'cascade' }),
    alias: text('alias').notNull(),
    version: integer('version').notNull(),
  },
  (table) => [primaryKey({ columns: [table.modelId, table.alias] })],
);
