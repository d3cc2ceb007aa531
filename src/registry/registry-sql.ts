import { asc, desc, eq, ne, sql, type AnyColumn, type SQL } from 'drizzle-orm';
import type { TextComparator } from './registry-search.ts';

/** MLflow's LIKE is case-sensitive and SQLite's is not, so LIKE becomes GLOB with its wildcards translated. */
function likeToGlob(pattern: string): string {
  return pattern.replace(/[*?[%_]/g, (char) => ({ '*': '[*]', '?': '[?]', '[': '[[]', '%': '*', _: '?' })[char]!);
}

export function compareText(column: AnyColumn, comparator: TextComparator, value: string): SQL {
  switch (comparator) {
    case '=':
      return eq(column, value);
    case '!=':
      return ne(column, value);
    case 'LIKE':
      return sql`${column} GLOB ${likeToGlob(value)}`;
    case 'ILIKE':
      return sql`lower(${column}) LIKE lower(${value})`;
  }
}

/** Runs a lookup over a long id list in slices, keeping each statement well under SQLite's variable limit. */
export function inSlices<T, R>(items: T[], lookup: (slice: T[]) => R[], size = 500): R[] {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += size) results.push(...lookup(items.slice(start, start + size)));
  return results;
}

export function ordered(column: AnyColumn, ascending: boolean): SQL {
  return ascending ? asc(column) : desc(column);
}
