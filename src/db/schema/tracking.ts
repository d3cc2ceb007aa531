import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { projects } from './auth.ts';

const lifecycle = () => text('lifecycle_stage', { enum: ['active', 'deleted'] }).notNull().default('active');

/** MLflow's experiments; id 0 is MLflow's "Default" experiment, which the client uses when none is chosen. */
export const experiments = sqliteTable(
  'experiments',
  {
    id: integer('id').primaryKey(),
    projectId: integer('project_id')
      .notNull()
      .references(() => projects.id),
    name: text('name').notNull().unique(),
    artifactLocation: text('artifact_location').notNull(),
    lifecycleStage: lifecycle(),
    creationTime: integer('creation_time').notNull(),
    lastUpdateTime: integer('last_update_time').notNull(),
  },
  (table) => [index('experiments_project_idx').on(table.projectId)],
);

export const experimentTags = sqliteTable(
  'experiment_tags',
  {
    experimentId: integer('experiment_id')
      .notNull()
      .references(() => experiments.id, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    value: text('value').notNull(),
  },
  (table) => [primaryKey({ columns: [table.experimentId, table.key] })],
);

export const runs = sqliteTable(
  'runs',
  {
    runUuid: text('run_uuid').primaryKey(),
    experimentId: integer('experiment_id')
      .notNull()
      .references(() => experiments.id),
    name: text('name').notNull().default(''),
    userId: text('user_id').notNull().default(''),
    status: text('status', { enum: ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'] }).notNull(),
    startTime: integer('start_time'),
    endTime: integer('end_time'),
    artifactUri: text('artifact_uri').notNull(),
    lifecycleStage: lifecycle(),
    deletedTime: integer('deleted_time'),
  },
  (table) => [index('runs_experiment_idx').on(table.experimentId, table.startTime)],
);

export const params = sqliteTable(
  'params',
  {
    runUuid: text('run_uuid')
      .notNull()
      .references(() => runs.runUuid, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    value: text('value').notNull(),
  },
  (table) => [primaryKey({ columns: [table.runUuid, table.key] }), index('params_key_idx').on(table.key, table.value)],
);

export const runTags = sqliteTable(
  'run_tags',
  {
    runUuid: text('run_uuid')
      .notNull()
      .references(() => runs.runUuid, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    value: text('value').notNull(),
  },
  (table) => [primaryKey({ columns: [table.runUuid, table.key] }), index('run_tags_key_idx').on(table.key, table.value)],
);

/**
 * Every logged point. SQLite stores NaN as NULL, so `value` is NULL exactly for NaN; ±Infinity are stored as
 * themselves. The ingest hot path writes here with a raw prepared statement.
 */
export const metrics = sqliteTable(
  'metrics',
  {
    runUuid: text('run_uuid')
      .notNull()
      .references(() => runs.runUuid, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    value: real('value'),
    timestamp: integer('timestamp').notNull(),
    step: integer('step').notNull().default(0),
    modelId: text('model_id'),
    datasetName: text('dataset_name'),
    datasetDigest: text('dataset_digest'),
  },
  (table) => [index('metrics_run_key_step_idx').on(table.runUuid, table.key, table.step, table.timestamp)],
);

/** The latest point of each metric of a run (highest step, then timestamp, then value), for search and tables. */
export const latestMetrics = sqliteTable(
  'latest_metrics',
  {
    runUuid: text('run_uuid')
      .notNull()
      .references(() => runs.runUuid, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    value: real('value'),
    timestamp: integer('timestamp').notNull(),
    step: integer('step').notNull(),
  },
  (table) => [primaryKey({ columns: [table.runUuid, table.key] }), index('latest_metrics_key_idx').on(table.key, table.value)],
);

/**
 * A summary of each metric's points in ranges of 256 steps (`bucket` = `step >> 8`), so a chart of a million
 * points reads thousands of rows. Kept in the metric ingest's transaction, filled from `metrics` by the migration
 * that made it. `first`/`last` are the bucket's points in history order (step, timestamp, then as logged); min and
 * max cover finite values only (NULL when there are none) and name the lowest step holding them; `count` counts
 * every point, NaN and infinities included.
 * The rows lie in (run, bucket, key) order, WITHOUT ROWID (set by the migration: drizzle cannot say so): a
 * log-batch of many keys at one step, as `mlflow.log_metrics` sends, updates rows side by side instead of a page
 * per key. Charts find a metric's rows through the (run, key, bucket) index, which changes only when a bucket is new.
 */
export const metricBuckets = sqliteTable(
  'metric_buckets',
  {
    runUuid: text('run_uuid')
      .notNull()
      .references(() => runs.runUuid, { onDelete: 'cascade' }),
    bucket: integer('bucket').notNull(),
    key: text('key').notNull(),
    count: integer('count').notNull(),
    firstStep: integer('first_step').notNull(),
    firstTimestamp: integer('first_timestamp').notNull(),
    firstValue: real('first_value'),
    lastStep: integer('last_step').notNull(),
    lastTimestamp: integer('last_timestamp').notNull(),
    lastValue: real('last_value'),
    minValue: real('min_value'),
    minValueStep: integer('min_value_step'),
    maxValue: real('max_value'),
    maxValueStep: integer('max_value_step'),
  },
  (table) => [
    primaryKey({ columns: [table.runUuid, table.bucket, table.key] }),
    index('metric_buckets_series_idx').on(table.runUuid, table.key, table.bucket),
  ],
);

/** Datasets a run used (`log-inputs`), with the input's tags, as MLflow's DatasetInput. */
export const runInputs = sqliteTable(
  'run_inputs',
  {
    runUuid: text('run_uuid')
      .notNull()
      .references(() => runs.runUuid, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    digest: text('digest').notNull(),
    sourceType: text('source_type').notNull(),
    source: text('source').notNull(),
    schema: text('schema'),
    profile: text('profile'),
    tags: text('tags', { mode: 'json' }).$type<Array<{ key: string; value: string }>>().notNull().default(sql`'[]'`),
  },
  (table) => [primaryKey({ columns: [table.runUuid, table.name, table.digest] })],
);

/** MLflow 3's logged models (`m-<hex>`), with their own artifacts under the experiment. */
export const loggedModels = sqliteTable(
  'logged_models',
  {
    modelId: text('model_id').primaryKey(),
    experimentId: integer('experiment_id')
      .notNull()
      .references(() => experiments.id),
    name: text('name').notNull(),
    artifactUri: text('artifact_uri').notNull(),
    status: text('status', { enum: ['LOGGED_MODEL_PENDING', 'LOGGED_MODEL_READY', 'LOGGED_MODEL_UPLOAD_FAILED'] }).notNull(),
    statusMessage: text('status_message'),
    modelType: text('model_type').notNull().default(''),
    sourceRunId: text('source_run_id'),
    lifecycleStage: lifecycle(),
    creationTimestampMs: integer('creation_timestamp_ms').notNull(),
    lastUpdatedTimestampMs: integer('last_updated_timestamp_ms').notNull(),
  },
  (table) => [index('logged_models_experiment_idx').on(table.experimentId)],
);

export const loggedModelTags = sqliteTable(
  'logged_model_tags',
  {
    modelId: text('model_id')
      .notNull()
      .references(() => loggedModels.modelId, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    value: text('value').notNull(),
  },
  (table) => [primaryKey({ columns: [table.modelId, table.key] })],
);

export const loggedModelParams = sqliteTable(
  'logged_model_params',
  {
    modelId: text('model_id')
      .notNull()
      .references(() => loggedModels.modelId, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    value: text('value').notNull(),
  },
  (table) => [primaryKey({ columns: [table.modelId, table.key] })],
);

/** A run's outputs (`runs/outputs`): the logged models it produced, at which step. */
export const runOutputs = sqliteTable(
  'run_outputs',
  {
    runUuid: text('run_uuid')
      .notNull()
      .references(() => runs.runUuid, { onDelete: 'cascade' }),
    modelId: text('model_id').notNull(),
    step: integer('step').notNull().default(0),
  },
  (table) => [primaryKey({ columns: [table.runUuid, table.modelId] })],
);
