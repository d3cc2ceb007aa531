import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Db } from '../db/connection.ts';
import { loggedModelParams, loggedModels, loggedModelTags } from '../db/schema/tracking.ts';
import type { FilterClause } from '../lib/search-filter.ts';
import { numericCondition, stringCondition } from './search-conditions.ts';

export type LoggedModelRecord = typeof loggedModels.$inferSelect;

export interface KeyValue {
  key: string;
  value: string;
}

/** A metric point logged against a model (`metrics.model_id`); value NULL is NaN. */
export interface ModelMetricRow {
  modelId: string;
  runId: string;
  key: string;
  value: number | null;
  timestamp: number;
  step: number;
  datasetName: string | null;
  datasetDigest: string | null;
}

export function findLoggedModel(db: Db, modelId: string): LoggedModelRecord | undefined {
  return db.select().from(loggedModels).where(eq(loggedModels.modelId, modelId)).get();
}

export function findLoggedModels(db: Db, modelIds: string[]): LoggedModelRecord[] {
  if (modelIds.length === 0) return [];
  return db.select().from(loggedModels).where(inArray(loggedModels.modelId, modelIds)).all();
}

export function insertLoggedModel(db: Db, model: typeof loggedModels.$inferInsert, tags: KeyValue[], params: KeyValue[]): LoggedModelRecord {
  return db.transaction((tx) => {
    const record = tx.insert(loggedModels).values(model).returning().get();
    if (tags.length > 0) tx.insert(loggedModelTags).values(tags.map((tag) => ({ modelId: model.modelId, ...tag }))).run();
    if (params.length > 0) tx.insert(loggedModelParams).values(params.map((param) => ({ modelId: model.modelId, ...param }))).run();
    return record;
  });
}

export function updateLoggedModel(db: Db, modelId: string, changes: Partial<typeof loggedModels.$inferInsert>): LoggedModelRecord | undefined {
  return db.update(loggedModels).set(changes).where(eq(loggedModels.modelId, modelId)).returning().get();
}

/** Sets tags (a key already there gets the new value), all or none. */
export function upsertLoggedModelTags(db: Db, modelId: string, tags: KeyValue[]): void {
  db.transaction((tx) => {
    for (const tag of tags) {
      tx.insert(loggedModelTags)
        .values({ modelId, ...tag })
        .onConflictDoUpdate({ target: [loggedModelTags.modelId, loggedModelTags.key], set: { value: tag.value } })
        .run();
    }
  });
}

export function deleteLoggedModelTag(db: Db, modelId: string, key: string): boolean {
  return db.delete(loggedModelTags).where(and(eq(loggedModelTags.modelId, modelId), eq(loggedModelTags.key, key))).run().changes > 0;
}

/** Adds params in one transaction; `check` sees the values already stored under the same keys first and may refuse. */
export function insertLoggedModelParams(db: Db, modelId: string, params: KeyValue[], check: (existing: KeyValue[]) => void): void {
  db.transaction((tx) => {
    const keys = params.map(({ key }) => key);
    check(
      tx
        .select({ key: loggedModelParams.key, value: loggedModelParams.value })
        .from(loggedModelParams)
        .where(and(eq(loggedModelParams.modelId, modelId), inArray(loggedModelParams.key, keys)))
        .all(),
    );
    if (params.length > 0) {
      tx.insert(loggedModelParams)
        .values(params.map((param) => ({ modelId, ...param })))
        .onConflictDoNothing()
        .run();
    }
  });
}

function groupByModel<T extends { modelId: string }>(rows: T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) groups.set(row.modelId, [...(groups.get(row.modelId) ?? []), row]);
  return groups;
}

export function listLoggedModelTags(db: Db, modelIds: string[]): Map<string, Array<KeyValue & { modelId: string }>> {
  if (modelIds.length === 0) return new Map();
  return groupByModel(db.select().from(loggedModelTags).where(inArray(loggedModelTags.modelId, modelIds)).orderBy(asc(loggedModelTags.key)).all());
}

export function listLoggedModelParams(db: Db, modelIds: string[]): Map<string, Array<KeyValue & { modelId: string }>> {
  if (modelIds.length === 0) return new Map();
  return groupByModel(db.select().from(loggedModelParams).where(inArray(loggedModelParams.modelId, modelIds)).orderBy(asc(loggedModelParams.key)).all());
}

/**
 * Every point logged against these models, in logging order. One statement for the whole page of models: without
 * an index on metrics.model_id each lookup is a scan of the metrics table.
 */
export function listLoggedModelMetrics(db: Db, modelIds: string[]): Map<string, ModelMetricRow[]> {
  if (modelIds.length === 0) return new Map();
  const rows = db.$client
    .prepare(
      `SELECT model_id AS modelId, run_uuid AS runId, key, value, timestamp, step, dataset_name AS datasetName, dataset_digest AS datasetDigest
       FROM metrics WHERE model_id IN (${modelIds.map(() => '?').join(', ')}) ORDER BY rowid`,
    )
    .all(...modelIds) as ModelMetricRow[];
  return groupByModel(rows);
}

/** The logged_models columns a search may filter and sort on. */
export type ModelColumn =
  | 'model_id'
  | 'name'
  | 'model_type'
  | 'status'
  | 'source_run_id'
  | 'experiment_id'
  | 'creation_timestamp_ms'
  | 'last_updated_timestamp_ms';

const NUMERIC_COLUMNS = new Set<ModelColumn>(['experiment_id', 'creation_timestamp_ms', 'last_updated_timestamp_ms']);

export interface DatasetRef {
  name: string;
  digest?: string | undefined;
}

/** A filter clause and what it is about; `what` names it in errors. */
export type ModelCondition = { clause: FilterClause; what: string } & ({ on: 'attribute'; column: ModelColumn } | { on: 'metric' | 'param' | 'tag'; key: string });

export type ModelOrder =
  | { on: 'attribute'; column: ModelColumn; ascending: boolean }
  | { on: 'metric'; key: string; ascending: boolean; dataset?: DatasetRef | undefined };

export interface ModelSearch {
  experimentIds: number[];
  conditions: ModelCondition[];
  /** Metric conditions (or, without any, the models themselves) must involve one of these datasets. */
  datasets: DatasetRef[];
  order: ModelOrder[];
  offset: number;
  limit: number;
}

/**
 * The ids of the active models that match, in order, one page of them. Metric conditions match any point logged
 * against the model; a metric order uses each model's latest point (by timestamp, then step), as MLflow does.
 */
export function searchLoggedModelIds(db: Db, search: ModelSearch): string[] {
  const params: unknown[] = [];
  const bind = (value: unknown) => {
    params.push(value);
    return '?';
  };
  const onDatasets = (datasets: DatasetRef[]) =>
    datasets.length === 0
      ? ''
      : ` AND (${datasets.map((dataset) => `(dataset_name = ${bind(dataset.name)}${dataset.digest ? ` AND dataset_digest = ${bind(dataset.digest)}` : ''})`).join(' OR ')})`;

  // Joins come first in the statement, so their parameters are bound first.
  const joins: string[] = [];
  const order: string[] = [];
  for (const [index, clause] of search.order.entries()) {
    let column: string;
    if (clause.on === 'attribute') column = `lm.${clause.column}`;
    else {
      column = `o${index}.value`;
      joins.push(
        `LEFT JOIN (SELECT model_id, value FROM (SELECT model_id, value, ROW_NUMBER() OVER (PARTITION BY model_id ORDER BY timestamp DESC, step DESC) AS latest
           FROM metrics WHERE model_id IS NOT NULL AND key = ${bind(clause.key)}${onDatasets(clause.dataset ? [clause.dataset] : [])}) WHERE latest = 1) AS o${index}
         ON o${index}.model_id = lm.model_id`,
      );
    }
    order.push(`(${column} IS NULL)`, `${column} ${clause.ascending ? 'ASC' : 'DESC'}`);
  }
  if (!search.order.some((clause) => clause.on === 'attribute' && clause.column === 'creation_timestamp_ms')) {
    order.push('lm.creation_timestamp_ms DESC');
  }
  order.push('lm.model_id');

  const where = [`lm.lifecycle_stage = 'active'`, `lm.experiment_id IN (${search.experimentIds.map(bind).join(', ')})`];
  for (const condition of search.conditions) {
    const { clause, what } = condition;
    if (condition.on === 'attribute') {
      const column = `lm.${condition.column}`;
      where.push(NUMERIC_COLUMNS.has(condition.column) ? numericCondition(column, clause, params, what) : stringCondition(column, clause, params, what));
    } else if (condition.on === 'metric') {
      where.push(
        `lm.model_id IN (SELECT model_id FROM metrics WHERE model_id IS NOT NULL AND key = ${bind(condition.key)} AND ${numericCondition('value', clause, params, what)}${onDatasets(search.datasets)})`,
      );
    } else {
      const table = condition.on === 'param' ? 'logged_model_params' : 'logged_model_tags';
      where.push(`lm.model_id IN (SELECT model_id FROM ${table} WHERE key = ${bind(condition.key)} AND ${stringCondition('value', clause, params, what)})`);
    }
  }
  if (search.datasets.length > 0 && !search.conditions.some((condition) => condition.on === 'metric')) {
    where.push(`lm.model_id IN (SELECT model_id FROM metrics WHERE model_id IS NOT NULL${onDatasets(search.datasets)})`);
  }

  const statement = `SELECT lm.model_id AS modelId FROM logged_models AS lm ${joins.join(' ')}
    WHERE ${where.join(' AND ')} ORDER BY ${order.join(', ')} LIMIT ${bind(search.limit)} OFFSET ${bind(search.offset)}`;
  return (db.$client.prepare(statement).all(...params) as Array<{ modelId: string }>).map(({ modelId }) => modelId);
}
