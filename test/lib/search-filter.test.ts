import { describe, expect, it } from 'vitest';
import { HttpError } from '../../src/lib/errors.ts';
import { parseOrderBy, parseSearchFilter } from '../../src/lib/search-filter.ts';

describe('parseSearchFilter', () => {
  it.each([
    ['', []],
    ['   ', []],
    ["metrics.acc > 0.5 and params.opt = 'adam'", [
      { entity: 'metrics', key: 'acc', comparator: '>', value: 0.5 },
      { entity: 'params', key: 'opt', comparator: '=', value: 'adam' },
    ]],
    ['tags.`mlflow.user` != "bob"', [{ entity: 'tags', key: 'mlflow.user', comparator: '!=', value: 'bob' }]],
    ['tags.mlflow.runName LIKE \'smoke%\'', [{ entity: 'tags', key: 'mlflow.runName', comparator: 'LIKE', value: 'smoke%' }]],
    ['metrics."my metric" <= -1e-3', [{ entity: 'metrics', key: 'my metric', comparator: '<=', value: -0.001 }]],
    ["attributes.status IN ('FINISHED', 'FAILED')", [{ entity: 'attributes', key: 'status', comparator: 'IN', value: ['FINISHED', 'FAILED'] }]],
    ["Attr.run_name not in ('a')", [{ entity: 'attr', key: 'run_name', comparator: 'NOT IN', value: ['a'] }]],
    ["name ILIKE '%Smoke%' AND tag.`mlflow.prompt.is_prompt` != 'true'", [
      { entity: '', key: 'name', comparator: 'ILIKE', value: '%Smoke%' },
      { entity: 'tag', key: 'mlflow.prompt.is_prompt', comparator: '!=', value: 'true' },
    ]],
    ['run_id = \'abc\'', [{ entity: '', key: 'run_id', comparator: '=', value: 'abc' }]],
    ["params.x = 'it''s'", [{ entity: 'params', key: 'x', comparator: '=', value: "it's" }]],
    ['tags.team IS NOT NULL', [{ entity: 'tags', key: 'team', comparator: 'IS NOT NULL', value: null }]],
    ['metrics.loss <> 3', [{ entity: 'metrics', key: 'loss', comparator: '!=', value: 3 }]],
    ['creation_time >= 1795319114624', [{ entity: '', key: 'creation_time', comparator: '>=', value: 1795319114624 }]],
  ])('parses %s', (filter, clauses) => {
    expect(parseSearchFilter(filter)).toEqual(clauses);
  });

  it.each([
    ["metrics.acc > 0.5 or params.x = 'y'", /OR is not supported/],
    ['metrics.acc >', /expected a value/],
    ["params.x = 'open", /unterminated/],
    ['= 3', /expected an identifier/],
    ['metrics.acc ~ 3', /expected a comparator/],
    ["params.x IN 'a'", /parenthesised list/],
    ["params.x IN ('a' 'b')", /expected , or \)/],
    ["params.x = 'a' params.y = 'b'", /expected AND or the end/],
    ['metrics. = 1', /expected a key/],
    ['params.x = abc', /expected a value/],
  ])('rejects %s with a 400 that says why', (filter, message) => {
    let error: unknown;
    try {
      parseSearchFilter(filter);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(HttpError);
    expect((error as HttpError).status).toBe(400);
    expect((error as HttpError).code).toBe('INVALID_PARAMETER_VALUE');
    expect((error as HttpError).message).toMatch(message);
  });
});

describe('parseOrderBy', () => {
  it.each([
    ['metrics.acc DESC', { entity: 'metrics', key: 'acc', ascending: false }],
    ['attributes.start_time', { entity: 'attributes', key: 'start_time', ascending: true }],
    ['name asc', { entity: '', key: 'name', ascending: true }],
    ['tags.`a b` desc', { entity: 'tags', key: 'a b', ascending: false }],
  ])('parses %s', (orderBy, clause) => {
    expect(parseOrderBy(orderBy)).toEqual(clause);
  });

  it('rejects trailing words', () => {
    expect(() => parseOrderBy('name DESC please')).toThrow(/expected ASC, DESC or the end/);
  });
});
