import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { likeToGlob, lifecycleStages } from '../../src/tracking/search-conditions.ts';

describe('LIKE as GLOB, to keep MLflow LIKE case-sensitive in SQLite', () => {
  const db = new Database(':memory:');
  const matches = (value: string, like: string) => db.prepare('SELECT ? GLOB ? AS hit').get(value, likeToGlob(like)) as { hit: number };

  it.each([
    ['adam', 'ad%', 1],
    ['Adam', 'ad%', 0],
    ['adam', 'a_am', 1],
    ['a*b', 'a*%', 1],
    ['axb', 'a*%', 0],
    ['a?b', 'a?b', 1],
    ['axb', 'a?b', 0],
    ['[x]', '[x]', 1],
    ['x', '[x]', 0],
    ['100%', '100%', 1],
  ])('%j LIKE %j is %i', (value, like, hit) => {
    expect(matches(value, like).hit).toBe(hit);
  });
});

describe('view types', () => {
  it('reads names and proto numbers, ACTIVE_ONLY by default', () => {
    expect(lifecycleStages(undefined, 'v')).toEqual(['active']);
    expect(lifecycleStages('DELETED_ONLY', 'v')).toEqual(['deleted']);
    expect(lifecycleStages(3, 'v')).toEqual(['active', 'deleted']);
    expect(lifecycleStages('3', 'v')).toEqual(['active', 'deleted']);
    expect(() => lifecycleStages('EVERYTHING', 'run_view_type')).toThrow("'run_view_type'");
  });
});
