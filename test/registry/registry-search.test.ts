import { describe, expect, it } from 'vitest';
import { parseModelSearch, parseVersionSearch } from '../../src/registry/registry-search.ts';

describe('registry search specs', () => {
  it('drops the prompt marker from a plain search and leaves prompts out', () => {
    const spec = parseModelSearch({ filter: "name = 'a' AND tag.`mlflow.prompt.is_prompt` != 'true'" });
    expect(spec).toEqual({
      attributes: [{ field: 'name', comparator: '=', value: 'a' }],
      tags: [],
      excludePrompts: true,
      order: [{ field: 'name', ascending: true }],
      offset: 0,
      maxResults: 100,
    });
  });

  it.each([
    ["tags.`mlflow.prompt.is_prompt` = 'TRUE'"],
    ["tags.`mlflow.prompt.is_prompt` != 'false'"],
  ])('searches prompts when asked to: %s', (filter) => {
    const spec = parseModelSearch({ filter });
    expect(spec.excludePrompts).toBe(false);
    expect(spec.tags).toHaveLength(1);
  });

  it('orders model versions as MLflow does by default, with tie-breakers after any order given', () => {
    expect(parseVersionSearch({}).order).toEqual([
      { field: 'last_updated_timestamp', ascending: false },
      { field: 'name', ascending: true },
      { field: 'version', ascending: false },
    ]);
    expect(parseVersionSearch({ orderBy: ['version_number ASC'] }).order).toEqual([
      { field: 'version', ascending: true },
      { field: 'name', ascending: true },
    ]);
    expect(parseModelSearch({ orderBy: ['timestamp DESC'], maxResults: 5 })).toMatchObject({
      order: [
        { field: 'last_updated_timestamp', ascending: false },
        { field: 'name', ascending: true },
      ],
      maxResults: 5,
    });
  });

  it('reads version numbers given as numbers or quoted digits', () => {
    expect(parseVersionSearch({ filter: "version_number > 2 and version_number <= '5'" }).attributes).toEqual([
      { field: 'version', comparator: '>', value: 2 },
      { field: 'version', comparator: '<=', value: 5 },
    ]);
  });
});
