import type { Statement } from 'better-sqlite3';
import type { Db } from '../db/connection.ts';
import { invalidParameterValue } from '../lib/errors.ts';
import type { FilterClause, OrderClause } from '../lib/search-filter.ts';
import type { RunInfoFields } from './run-json.ts';
import { isAttributeEntity, isTagEntity, numericCondition, stringCondition } from './search-conditions.ts';

/** Runs' own columns by the names MLflow's filter uses; `created` is MLflow's old name for start_time. */
const STRING_ATTRIBUTES: Record<string, string> = {
  run_id: 'r.run_uuid',
  run_name: 'r.name',
  status: 'r.status',
  user_id: 'r.user_id',
  artifact_uri: 'r.artifact_uri',
  lifecycle_stage: 'r.lifecycle_stage',
};
const NUMERIC_ATTRIBUTES: Record<string, string> = {
  start_time: 'r.start_time',
  end_time: 'r.end_time',
  created: 'r.start_time',
  Created: 'r.start_time',
  experiment_id: 'r.experiment_id',
};
const DATASET_FIELDS = ['name', 'digest', 'context'];

const isMetricEntity = (entity: string) => entity === 'metric' || entity === 'metrics';
const isParamEntity = (entity: string) => entity === 'param' || entity === 'params' || entity === 'parameter' || entity === 'parameters';
const isDatasetEntity = (entity: string) => entity === 'dataset' || entity === 'datasets';

function attributeColumn(key: string): { column: string; numeric: boolean } {
  if (Object.hasOwn(STRING_ATTRIBUTES, key)) return { column: STRING_ATTRIBUTES[key]!, numeric: false };
  if (Object.hasOwn(NUMERIC_ATTRIBUTES, key)) return { column: NUMERIC_ATTRIBUTES[key]!, numeric: true };
  const valid = [...Object.keys(STRING_ATTRIBUTES), ...Object.keys(NUMERIC_ATTRIBUTES)];
  throw invalidParameterValue(`Invalid attribute key '${key}' specified. Valid keys are '${valid.join("', '")}'`);
}

/** The table and what a key-value entity is called in errors. */
function keyedTable(entity: string): { table: string; what: string } | undefined {
  if (isMetricEntity(entity)) return { table: 'latest_metrics', what: 'metric' };
  if (isParamEntity(entity)) return { table: 'params', what: 'param' };
  if (isTagEntity(entity)) return { table: 'run_tags', what: 'tag' };
  return undefined;
}

interface Query {
  /** The join alias of each `table:key` a filter compares, so an order on the same key can reuse it. */
  compared: Map<string, string>;
  joins: string[];
  joinParams: unknown[];
  where: string[];
  whereParams: unknown[];
}

function addCondition(query: Query, clause: FilterClause, index: number): void {
  const { entity, key, comparator } = clause;
  const keyed = keyedTable(entity);
  if (keyed) {
    const what = `${keyed.what} '${key}'`;
    if (comparator === 'IS NULL' || comparator === 'IS NOT NULL') {
      query.where.push(`${comparator === 'IS NULL' ? 'NOT ' : ''}EXISTS (SELECT 1 FROM ${keyed.table} x WHERE x.run_uuid = r.run_uuid AND x.key = ?)`);
      query.whereParams.push(key);
      return;
    }
    // An inner join: the run must have the key, and the planner may start from the (key, value) index.
    const alias = `f${index}`;
    query.compared.set(`${keyed.table}:${key}`, alias);
    query.joins.push(`JOIN ${keyed.table} ${alias} ON ${alias}.run_uuid = r.run_uuid AND ${alias}.key = ?`);
    query.joinParams.push(key);
    query.where.push(
      keyed.table === 'latest_metrics'
        ? numericCondition(`${alias}.value`, clause, query.whereParams, what)
        : stringCondition(`${alias}.value`, clause, query.whereParams, what),
    );
    return;
  }
  if (isAttributeEntity(entity)) {
    const { column, numeric } = attributeColumn(key);
    if (comparator === 'IS NULL' || comparator === 'IS NOT NULL') query.where.push(`${column} ${comparator}`);
    else if (numeric) query.where.push(numericCondition(column, clause, query.whereParams, `attribute '${key}'`));
    else query.where.push(stringCondition(column, clause, query.whereParams, `attribute '${key}'`));
    return;
  }
  if (isDatasetEntity(entity)) {
    if (!DATASET_FIELDS.includes(key)) {
      throw invalidParameterValue(`Invalid dataset key '${key}' specified. Valid keys are '${DATASET_FIELDS.join("', '")}'`);
    }
    const params: unknown[] = [];
    const inner =
      key === 'context'
        ? `FROM run_inputs d, json_each(d.tags) t WHERE d.run_uuid = r.run_uuid AND json_extract(t.value, '$.key') = 'mlflow.data.context'
             AND ${stringCondition("json_extract(t.value, '$.value')", clause, params, 'dataset context')}`
        : `FROM run_inputs d WHERE d.run_uuid = r.run_uuid AND ${stringCondition(`d.${key}`, clause, params, `dataset ${key}`)}`;
    query.where.push(`EXISTS (SELECT 1 ${inner})`);
    query.whereParams.push(...params);
    return;
  }
  throw invalidParameterValue(
    `Invalid entity type '${entity}'. Valid values are ['metric', 'parameter', 'tag', 'attribute', 'dataset']`,
  );
}

/**
 * ORDER BY terms; MLflow puts missing values last either way, and NaN metrics just before them. A key the filter
 * already compares is present and not NaN in every row, so its order reuses the filter's join as a plain
 * `value DESC`: SQLite can then walk the (key, value) index in order and stop at the page's end.
 */
function addOrder(query: Query, orders: OrderClause[]): string[] {
  const terms: string[] = [];
  let startTimeOrdered = false;
  orders.forEach(({ entity, key, ascending }, index) => {
    const direction = ascending ? 'ASC' : 'DESC';
    const keyed = keyedTable(entity);
    const compared = keyed && query.compared.get(`${keyed.table}:${key}`);
    if (compared) {
      terms.push(`${compared}.value ${direction}`);
    } else if (keyed) {
      const alias = `o${index}`;
      query.joins.push(`LEFT JOIN ${keyed.table} ${alias} ON ${alias}.run_uuid = r.run_uuid AND ${alias}.key = ?`);
      query.joinParams.push(key);
      terms.push(
        keyed.table === 'latest_metrics'
          ? `CASE WHEN ${alias}.run_uuid IS NULL THEN 2 WHEN ${alias}.value IS NULL THEN 1 ELSE 0 END, ${alias}.value ${direction}`
          : `${alias}.value IS NULL, ${alias}.value ${direction}`,
      );
    } else if (isAttributeEntity(entity)) {
      const { column } = attributeColumn(key);
      startTimeOrdered ||= column === 'r.start_time';
      terms.push(`${column} IS NULL, ${column} ${direction}`);
    } else {
      throw invalidParameterValue(`Invalid order_by entity '${entity}': use metrics., params., tags. or attributes.`);
    }
  });
  if (!startTimeOrdered) terms.push('r.start_time DESC');
  terms.push('r.run_uuid ASC');
  return terms;
}

interface RunSearch {
  experimentIds: number[];
  stages: string[];
  clauses: FilterClause[];
  orders: OrderClause[];
  limit: number;
  offset: number;
}

export type RunSearchQueries = ReturnType<typeof createRunSearchQueries>;

const CACHED_STATEMENTS = 200;

/**
 * Translates a search into one SELECT over runs with a join per filtered or ordered key. Statements are cached
 * by their text, so a dashboard repeating the same search shape skips preparing it.
 */
export function createRunSearchQueries(db: Db) {
  const cache = new Map<string, Statement>();
  const prepare = (sql: string): Statement => {
    let statement = cache.get(sql);
    if (statement) cache.delete(sql);
    else statement = db.$client.prepare(sql);
    cache.set(sql, statement);
    if (cache.size > CACHED_STATEMENTS) cache.delete(cache.keys().next().value!);
    return statement;
  };

  return function searchRunRows(search: RunSearch): RunInfoFields[] {
    const query: Query = { compared: new Map(), joins: [], joinParams: [], where: [], whereParams: [] };
    query.where.push(`r.experiment_id IN (${search.experimentIds.map(() => '?').join(', ')})`);
    query.whereParams.push(...search.experimentIds);
    query.where.push(`r.lifecycle_stage IN (${search.stages.map(() => '?').join(', ')})`);
    query.whereParams.push(...search.stages);
    search.clauses.forEach((clause, index) => addCondition(query, clause, index));
    const order = addOrder(query, search.orders);
    if (search.experimentIds.length === 0) return [];
    const sql = `SELECT r.run_uuid AS runUuid, r.experiment_id AS experimentId, r.name, r.user_id AS userId, r.status,
                        r.start_time AS startTime, r.end_time AS endTime, r.artifact_uri AS artifactUri, r.lifecycle_stage AS lifecycleStage
                   FROM runs r ${query.joins.join(' ')}
                  WHERE ${query.where.join(' AND ')}
                  ORDER BY ${order.join(', ')} LIMIT ? OFFSET ?`;
    return prepare(sql).all(...query.joinParams, ...query.whereParams, search.limit, search.offset) as RunInfoFields[];
  };
}
