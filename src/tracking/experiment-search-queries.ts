import type { Db } from '../db/connection.ts';
import { invalidParameterValue } from '../lib/errors.ts';
import type { FilterClause, OrderClause } from '../lib/search-filter.ts';
import type { ExperimentRecord } from './experiment-queries.ts';
import { isAttributeEntity, isTagEntity, numericCondition, stringCondition } from './search-conditions.ts';

const ATTRIBUTE_COLUMNS: Record<string, string> = {
  name: 'e.name',
  experiment_id: 'e.id',
  creation_time: 'e.creation_time',
  last_update_time: 'e.last_update_time',
};
const NUMERIC_ATTRIBUTES = new Set(['experiment_id', 'creation_time', 'last_update_time']);

function attributeColumn(key: string): string {
  const column = Object.hasOwn(ATTRIBUTE_COLUMNS, key) ? ATTRIBUTE_COLUMNS[key] : undefined;
  if (!column) {
    throw invalidParameterValue(`Invalid attribute key '${key}' specified. Valid keys are '${Object.keys(ATTRIBUTE_COLUMNS).join("', '")}'`);
  }
  return column;
}

function condition(clause: FilterClause, params: unknown[]): string {
  if (isAttributeEntity(clause.entity)) {
    const column = attributeColumn(clause.key);
    const what = `attribute '${clause.key}'`;
    return NUMERIC_ATTRIBUTES.has(clause.key) ? numericCondition(column, clause, params, what) : stringCondition(column, clause, params, what);
  }
  if (isTagEntity(clause.entity)) {
    params.push(clause.key);
    const value = stringCondition('t.value', clause, params, `tag '${clause.key}'`);
    return `EXISTS (SELECT 1 FROM experiment_tags t WHERE t.experiment_id = e.id AND t.key = ? AND ${value})`;
  }
  throw invalidParameterValue(`Invalid entity type '${clause.entity}' in the experiment filter: use attributes (name, creation_time, last_update_time) or tags`);
}

function orderTerms(orders: OrderClause[]): string[] {
  const terms = orders.map(({ entity, key, ascending }) => {
    if (!isAttributeEntity(entity)) throw invalidParameterValue(`Invalid order_by entity '${entity}': experiments order by attributes only`);
    return { column: attributeColumn(key), ascending };
  });
  if (terms.length === 0) terms.push({ column: 'e.creation_time', ascending: false });
  if (!terms.some(({ column }) => column === 'e.id')) terms.push({ column: 'e.id', ascending: true });
  return terms.map(({ column, ascending }) => `${column} ${ascending ? 'ASC' : 'DESC'}`);
}

/** One page of experiments matching the filter, in projects `projectIds` (all when undefined). */
export function searchExperimentRows(
  db: Db,
  search: { clauses: FilterClause[]; orders: OrderClause[]; stages: string[]; projectIds: number[] | undefined; limit: number; offset: number },
): ExperimentRecord[] {
  const params: unknown[] = [...search.stages];
  const where = [`e.lifecycle_stage IN (${search.stages.map(() => '?').join(', ')})`];
  if (search.projectIds) {
    where.push(`e.project_id IN (SELECT value FROM json_each(?))`);
    params.push(JSON.stringify(search.projectIds));
  }
  for (const clause of search.clauses) where.push(condition(clause, params));
  params.push(search.limit, search.offset);
  const statement = db.$client.prepare(
    `SELECT e.id, e.project_id AS projectId, e.name, e.artifact_location AS artifactLocation, e.lifecycle_stage AS lifecycleStage,
            e.creation_time AS creationTime, e.last_update_time AS lastUpdateTime
       FROM experiments e WHERE ${where.join(' AND ')} ORDER BY ${orderTerms(search.orders).join(', ')} LIMIT ? OFFSET ?`,
  );
  return statement.all(...params) as ExperimentRecord[];
}
