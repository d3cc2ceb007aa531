import { invalidParameterValue } from '../lib/errors.ts';
import type { Comparator, FilterClause } from '../lib/search-filter.ts';
import { shown } from './message-fields.ts';

/** Turns parsed search clauses into SQL conditions with bound parameters, the way MLflow compares each type. */

const STRING_COMPARATORS: readonly Comparator[] = ['=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'];
const NUMERIC_COMPARATORS: readonly Comparator[] = ['=', '!=', '<', '<=', '>', '>='];

/** `what` names the operand in errors, e.g. "metric 'acc'". */
function checkComparator(clause: FilterClause, allowed: readonly Comparator[], what: string): void {
  if (!allowed.includes(clause.comparator)) {
    throw invalidParameterValue(`Invalid comparator '${clause.comparator}' for ${what}: not one of '${allowed.join("', '")}'`);
  }
}

/**
 * MLflow's LIKE is case-sensitive and SQLite's is not, so LIKE becomes GLOB: % and _ turn into * and ?, and
 * GLOB's own wildcards are bracketed to stay literal.
 */
export function likeToGlob(pattern: string): string {
  let glob = '';
  for (const char of pattern) {
    if (char === '%') glob += '*';
    else if (char === '_') glob += '?';
    else if (char === '*' || char === '?' || char === '[') glob += `[${char}]`;
    else glob += char;
  }
  return glob;
}

/** `column <comparator> value` for a text column; the value must be quoted in the filter. */
export function stringCondition(column: string, clause: FilterClause, params: unknown[], what: string): string {
  checkComparator(clause, STRING_COMPARATORS, what);
  const values = Array.isArray(clause.value) ? clause.value : [clause.value];
  if (values.some((value) => typeof value !== 'string')) {
    throw invalidParameterValue(
      `Value for ${what} must be a quoted string, e.g. 'adam': got ${JSON.stringify(clause.value)}. Use single or double quotes.`,
    );
  }
  switch (clause.comparator) {
    case 'IN':
    case 'NOT IN':
      params.push(...values);
      return `${column} ${clause.comparator} (${values.map(() => '?').join(', ')})`;
    case 'LIKE':
      params.push(likeToGlob(values[0] as string));
      return `${column} GLOB ?`;
    case 'ILIKE':
      params.push(values[0]);
      return `${column} LIKE ?`;
    default:
      params.push(values[0]);
      return `${column} ${clause.comparator} ?`;
  }
}

/** `column <comparator> number` for a numeric column. */
export function numericCondition(column: string, clause: FilterClause, params: unknown[], what: string): string {
  checkComparator(clause, NUMERIC_COMPARATORS, what);
  if (typeof clause.value !== 'number') {
    throw invalidParameterValue(`Expected a numeric value for ${what}, got ${JSON.stringify(clause.value)}`);
  }
  params.push(clause.value);
  return `${column} ${clause.comparator} ?`;
}

export const isAttributeEntity = (entity: string) => ['', 'attribute', 'attributes', 'attr', 'run'].includes(entity);
export const isTagEntity = (entity: string) => entity === 'tag' || entity === 'tags';

/** Which rows a view type shows: MLflow's ViewType, by name or by its proto number. */
export function lifecycleStages(viewType: unknown, field: string): string[] {
  switch (viewType) {
    case undefined:
    case null:
    case 'ACTIVE_ONLY':
    case 1:
    case '1':
      return ['active'];
    case 'DELETED_ONLY':
    case 2:
    case '2':
      return ['deleted'];
    case 'ALL':
    case 3:
    case '3':
      return ['active', 'deleted'];
    default:
      throw invalidParameterValue(`Invalid value ${shown(viewType)} for parameter '${field}': use ACTIVE_ONLY, DELETED_ONLY or ALL`);
  }
}
