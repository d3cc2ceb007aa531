import { invalidParameterValue } from '../lib/errors.ts';
import { parseSearchFilter, type FilterClause } from '../lib/search-filter.ts';
import type { DatasetRef, ModelColumn, ModelCondition, ModelOrder, ModelSearch } from './logged-model-queries.ts';
import { entry, entryText, integer, invalidValue, list, missingValue, text, texts, type Message } from './message-fields.ts';
import { parsePageToken } from '../lib/page-token.ts';
import { isAttributeEntity, isTagEntity } from './search-conditions.ts';

/** SEARCH_LOGGED_MODEL_MAX_RESULTS_DEFAULT, and the ceiling MLflow puts on its other searches. */
const DEFAULT_MAX_RESULTS = 100;
const MAX_RESULTS = 50_000;

/** The attribute names a filter or order_by may use, with MLflow's aliases (SqlLoggedModel.ALIASES). */
const ATTRIBUTES: Record<string, ModelColumn> = {
  model_id: 'model_id',
  name: 'name',
  model_type: 'model_type',
  status: 'status',
  source_run_id: 'source_run_id',
  experiment_id: 'experiment_id',
  creation_timestamp: 'creation_timestamp_ms',
  creation_time: 'creation_timestamp_ms',
  creation_timestamp_ms: 'creation_timestamp_ms',
  last_updated_timestamp: 'last_updated_timestamp_ms',
  last_updated_time: 'last_updated_timestamp_ms',
  last_updated_timestamp_ms: 'last_updated_timestamp_ms',
};

function attributeColumn(key: string, invalid: () => Error): ModelColumn {
  const column = Object.hasOwn(ATTRIBUTES, key) ? ATTRIBUTES[key] : undefined;
  if (!column) throw invalid();
  return column;
}

/** `status = 'READY'` means the stored `LOGGED_MODEL_READY`. */
function withFullStatus(clause: FilterClause): FilterClause {
  const full = (value: string | number) => (typeof value === 'string' && !value.startsWith('LOGGED_MODEL_') ? `LOGGED_MODEL_${value}` : value);
  const value = clause.value;
  if (value === null) return clause;
  return { ...clause, value: Array.isArray(value) ? value.map(full) : full(value) };
}

function conditionOf(clause: FilterClause): ModelCondition {
  const { entity, key } = clause;
  if (isAttributeEntity(entity)) {
    const column = attributeColumn(key, () =>
      invalidParameterValue(`Invalid attribute key '${key}' specified. Valid keys are '${Object.keys(ATTRIBUTES).join("', '")}'`),
    );
    return { on: 'attribute', column, clause: column === 'status' ? withFullStatus(clause) : clause, what: `attribute '${key}'` };
  }
  if (entity === 'metric' || entity === 'metrics') return { on: 'metric', key, clause, what: `metric '${key}'` };
  if (entity === 'param' || entity === 'params') return { on: 'param', key, clause, what: `param '${key}'` };
  if (isTagEntity(entity)) return { on: 'tag', key, clause, what: `tag '${key}'` };
  throw invalidParameterValue(`Invalid entity type: '${entity}'. Expected one of ['attributes', 'metrics', 'params', 'tags'].`);
}

function datasetOf(item: Message, path: string): DatasetRef {
  const name = entryText(item, 'dataset_name', path);
  const digest = entryText(item, 'dataset_digest', path) || undefined;
  if (!name) {
    if (digest) throw invalidParameterValue(`${path}.dataset_digest may only be given together with a dataset_name`);
    throw invalidParameterValue('`dataset_name` in the `datasets` clause must be specified.');
  }
  return { name, digest };
}

/** One `order_by` entry: `{field_name, ascending, dataset_name, dataset_digest}`. */
function orderOf(raw: unknown, index: number): ModelOrder {
  const path = `order_by[${index}]`;
  const item = entry(raw, path);
  const field = entryText(item, 'field_name', path, true)!;
  const ascending = item.ascending ?? true;
  if (typeof ascending !== 'boolean') throw invalidValue(`${path}.ascending`, ascending);
  const invalid = () => invalidParameterValue(`Invalid order by field name: ${field}`);
  const dot = field.indexOf('.');
  if (dot < 0) return { on: 'attribute', column: attributeColumn(field, invalid), ascending };
  if (field.slice(0, dot) !== 'metrics') throw invalidParameterValue(`Invalid order by field name: ${field}. Only metrics are supported.`);
  const hasDataset = Boolean(entryText(item, 'dataset_name', path) || entryText(item, 'dataset_digest', path));
  return { on: 'metric', key: field.slice(dot + 1).replace(/^`(.*)`$/, '$1'), ascending, dataset: hasDataset ? datasetOf(item, path) : undefined };
}

/**
 * A SearchLoggedModels request as a search: the experiments the caller may see among those asked for, the
 * filter (MLflow's grammar: attributes, `metrics.`, `params.`, `tags.`), datasets, order and page.
 */
export function planModelSearch(message: Message, canView: (experimentId: string) => boolean): ModelSearch {
  if (message.experiment_ids === undefined) throw missingValue('experiment_ids');
  const limit = integer(message, 'max_results') ?? DEFAULT_MAX_RESULTS;
  if (limit < 1 || limit > MAX_RESULTS) {
    throw invalidValue('max_results', message.max_results, `It must be between 1 and ${MAX_RESULTS}.`);
  }
  return {
    experimentIds: texts(message, 'experiment_ids').filter(canView).map(Number),
    conditions: parseSearchFilter(text(message, 'filter')).map(conditionOf),
    datasets: list(message, 'datasets').map((raw, index) => datasetOf(entry(raw, `datasets[${index}]`), `datasets[${index}]`)),
    order: list(message, 'order_by').map(orderOf),
    offset: parsePageToken(text(message, 'page_token')),
    limit,
  };
}
