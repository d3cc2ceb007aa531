import { invalidParameterValue } from '../lib/errors.ts';
import { parseOrderBy, parseSearchFilter, type FilterClause } from '../lib/search-filter.ts';
import { parsePageToken } from '../lib/page-token.ts';

/**
 * What MLflow's registry searches allow (SearchModelUtils, SearchModelVersionUtils and the SQL store), turned
 * from the shared grammar into plain conditions the query files translate to SQL.
 */

export type TextComparator = '=' | '!=' | 'LIKE' | 'ILIKE';
export type NumberComparator = '=' | '!=' | '<' | '<=' | '>' | '>=';

export type AttributeCondition =
  | { field: 'name' | 'source' | 'run_id'; comparator: TextComparator; value: string }
  | { field: 'run_id'; comparator: 'IN'; value: string[] }
  | { field: 'version'; comparator: NumberComparator; value: number };

export interface TagCondition {
  key: string;
  comparator: TextComparator;
  value: string;
}

export interface SearchSpec<Field extends string> {
  attributes: AttributeCondition[];
  tags: TagCondition[];
  /** Prompts live in the registry as models tagged `mlflow.prompt.is_prompt`; plain searches leave them out. */
  excludePrompts: boolean;
  order: Array<{ field: Field; ascending: boolean }>;
  offset: number;
  maxResults: number;
}

export interface SearchInput {
  filter?: string | undefined;
  maxResults?: number | undefined;
  orderBy?: string[] | undefined;
  pageToken?: string | undefined;
}

export type ModelOrderField = 'name' | 'creation_timestamp' | 'last_updated_timestamp';
export type VersionOrderField = 'name' | 'version' | 'creation_timestamp' | 'last_updated_timestamp';

export const IS_PROMPT = 'mlflow.prompt.is_prompt';
const TEXT_COMPARATORS: readonly string[] = ['=', '!=', 'LIKE', 'ILIKE'];
const NUMBER_COMPARATORS: readonly string[] = ['=', '!=', '<', '<=', '>', '>='];

/** Attribute clauses (bare or `attribute.`) apart from tag clauses (`tag.` or `tags.`), as MLflow's registry reads them. */
function partition(filter: string | undefined): { attributes: FilterClause[]; tags: FilterClause[] } {
  const attributes: FilterClause[] = [];
  const tags: FilterClause[] = [];
  for (const clause of parseSearchFilter(filter)) {
    if (clause.entity === '' || clause.entity === 'attribute') attributes.push(clause);
    else if (clause.entity === 'tag' || clause.entity === 'tags') tags.push(clause);
    else throw invalidParameterValue(`Invalid entity type '${clause.entity}'. Valid entity types are ('attribute', 'tag', 'tags')`);
  }
  return { attributes, tags };
}

function quoted(clause: FilterClause, kind: 'attribute' | 'tag'): string {
  if (typeof clause.value === 'string') return clause.value;
  if (clause.value === null) throw invalidParameterValue(`Invalid comparator for ${kind}: ${clause.comparator}`);
  if (Array.isArray(clause.value)) {
    throw invalidParameterValue("Only the 'run_id' attribute supports comparison with a list of quoted string values.");
  }
  throw invalidParameterValue(
    kind === 'tag'
      ? `Expected a quoted string value for tag (e.g. 'my-value'). Got value ${String(clause.value)}`
      : `Expected a quoted string value or a list of quoted string values for attributes. Got value ${String(clause.value)}`,
  );
}

function tagCondition(clause: FilterClause): TagCondition {
  if (!TEXT_COMPARATORS.includes(clause.comparator)) throw invalidParameterValue(`Invalid comparator for tag: ${clause.comparator}`);
  return { key: clause.key, comparator: clause.comparator as TextComparator, value: quoted(clause, 'tag') };
}

/** MLflow drops the prompt marker from the filter unless it asks for prompts. */
function splitTags(clauses: FilterClause[]): { tags: TagCondition[]; excludePrompts: boolean } {
  const tags = clauses.map(tagCondition);
  const askForPrompts = tags.some(
    ({ key, comparator, value }) =>
      key === IS_PROMPT && ((comparator === '=' && value.toLowerCase() === 'true') || (comparator === '!=' && value.toLowerCase() === 'false')),
  );
  if (askForPrompts) return { tags, excludePrompts: false };
  return { tags: tags.filter(({ key }) => key !== IS_PROMPT), excludePrompts: true };
}

function modelAttribute(clause: FilterClause): AttributeCondition {
  if (clause.key !== 'name') throw invalidParameterValue(`Invalid attribute key '${clause.key}' specified. Valid keys are '{'name'}'`);
  const value = quoted(clause, 'attribute');
  if (!TEXT_COMPARATORS.includes(clause.comparator)) throw invalidParameterValue(`Invalid comparator for attribute: ${clause.comparator}`);
  return { field: 'name', comparator: clause.comparator as TextComparator, value };
}

function versionNumber(clause: FilterClause): AttributeCondition {
  if (!NUMBER_COMPARATORS.includes(clause.comparator)) {
    throw invalidParameterValue(`Invalid comparator for attribute version_number: ${clause.comparator}`);
  }
  const value = typeof clause.value === 'string' && /^\s*-?\d+\s*$/.test(clause.value) ? Number(clause.value) : clause.value;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw invalidParameterValue(`Expected an integer value for attribute version_number. Got value ${JSON.stringify(clause.value)}`);
  }
  return { field: 'version', comparator: clause.comparator as NumberComparator, value };
}

function versionAttribute(clause: FilterClause): AttributeCondition {
  if (clause.key === 'version_number') return versionNumber(clause);
  const fields: Record<string, 'name' | 'run_id' | 'source'> = { name: 'name', run_id: 'run_id', source_path: 'source' };
  const field = Object.hasOwn(fields, clause.key) ? fields[clause.key] : undefined;
  if (!field) {
    throw invalidParameterValue(
      `Invalid attribute key '${clause.key}' specified. Valid keys are '{'name', 'version_number', 'run_id', 'source_path'}'`,
    );
  }
  if (clause.comparator === 'IN' && field === 'run_id') {
    const values = Array.isArray(clause.value) ? clause.value : [];
    if (values.length === 0 || values.some((value) => typeof value !== 'string')) {
      throw invalidParameterValue(`Expected a list of quoted string values for run_id IN. Got value ${JSON.stringify(clause.value)}`);
    }
    return { field, comparator: 'IN', value: values as string[] };
  }
  const value = quoted(clause, 'attribute');
  if (!TEXT_COMPARATORS.includes(clause.comparator)) throw invalidParameterValue(`Invalid comparator for attribute: ${clause.comparator}`);
  return { field, comparator: clause.comparator as TextComparator, value };
}

function maxResultsOf(number: number | undefined, fallback: number, limit: number): number {
  if (number === undefined) return fallback;
  if (number < 1) throw invalidParameterValue(`Invalid value for max_results. It must be a positive integer, but got ${number}`);
  if (number > limit) {
    throw invalidParameterValue(`Invalid value for request parameter max_results. It must be at most ${limit}, but got value ${number}`);
  }
  return number;
}

function orderOf<Field extends string>(
  orderBy: string[],
  keys: Record<string, Field>,
  validKeys: string,
): Array<{ field: Field; ascending: boolean }> {
  const order: Array<{ field: Field; ascending: boolean }> = [];
  for (const text of orderBy) {
    const { entity, key, ascending } = parseOrderBy(text);
    if (entity !== '' && entity !== 'attribute' && entity !== 'attributes') throw invalidParameterValue(`Invalid order_by entity: ${entity}`);
    const field = Object.hasOwn(keys, key) ? keys[key] : undefined;
    if (!field) throw invalidParameterValue(`Invalid order by key '${key}' specified. Valid keys are '${validKeys}'`);
    if (order.some((existing) => existing.field === field)) {
      throw invalidParameterValue(`\`order_by\` contains duplicate fields: ${JSON.stringify(orderBy)}`);
    }
    order.push({ field, ascending });
  }
  return order;
}

function withTieBreakers<Field extends string>(order: Array<{ field: Field; ascending: boolean }>, tieBreakers: Array<{ field: Field; ascending: boolean }>) {
  return [...order, ...tieBreakers.filter((tie) => !order.some(({ field }) => field === tie.field))];
}

export function parseModelSearch(input: SearchInput): SearchSpec<ModelOrderField> {
  const clauses = partition(input.filter);
  const maxResults = maxResultsOf(input.maxResults, 100, 1000);
  const order = orderOf<ModelOrderField>(
    input.orderBy ?? [],
    { name: 'name', creation_timestamp: 'creation_timestamp', last_updated_timestamp: 'last_updated_timestamp', timestamp: 'last_updated_timestamp' },
    "{'name', 'creation_timestamp', 'last_updated_timestamp', 'timestamp'}",
  );
  return {
    attributes: clauses.attributes.map(modelAttribute),
    ...splitTags(clauses.tags),
    order: withTieBreakers(order, [{ field: 'name', ascending: true }]),
    offset: parsePageToken(input.pageToken),
    maxResults,
  };
}

export function parseVersionSearch(input: SearchInput): SearchSpec<VersionOrderField> {
  const clauses = partition(input.filter);
  const maxResults = maxResultsOf(input.maxResults, 10_000, 200_000);
  const orderBy = input.orderBy?.length ? input.orderBy : ['last_updated_timestamp DESC', 'name ASC', 'version_number DESC'];
  const order = orderOf<VersionOrderField>(
    orderBy,
    { name: 'name', version_number: 'version', creation_timestamp: 'creation_timestamp', last_updated_timestamp: 'last_updated_timestamp' },
    "{'name', 'version_number', 'creation_timestamp', 'last_updated_timestamp'}",
  );
  return {
    attributes: clauses.attributes.map(versionAttribute),
    ...splitTags(clauses.tags),
    order: withTieBreakers(order, [
      { field: 'name', ascending: true },
      { field: 'version', ascending: false },
    ]),
    offset: parsePageToken(input.pageToken),
    maxResults,
  };
}
