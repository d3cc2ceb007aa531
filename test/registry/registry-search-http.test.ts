import { beforeAll, describe, expect, it } from 'vitest';
import { runScenarios } from '../helpers/scenarios.ts';
import { API, basicAdmin, q, runId, useRegistryWorld } from './registry-world.ts';

const world = useRegistryWorld();
const { ok } = world;

describe('search', () => {
  beforeAll(async () => {
    for (const [index, name] of ['Alpha-search', 'alpha-search', 'beta-search', 'gamma_search'].entries()) {
      world.t.clock.advance(1000);
      await ok('POST', '/registered-models/create', { name, tags: [{ key: 'kind', value: index % 2 ? 'odd' : 'even' }] });
    }
    await ok('POST', '/registered-models/create', { name: 'prompt-search', tags: [{ key: 'mlflow.prompt.is_prompt', value: 'true' }] });
    for (let index = 0; index < 3; index++) {
      world.t.clock.advance(1000);
      await ok('POST', '/model-versions/create', { name: 'beta-search', source: `runs:/${runId}/m${index}`, run_id: runId, tags: [{ key: 'n', value: String(index) }] });
    }
    await ok('POST', '/model-versions/create', { name: 'gamma_search', source: 'mlflow-artifacts:/1/other', run_id: 'f'.repeat(32) });
  });

  const modelNames = async (params: Record<string, string | number>) =>
    ((await ok('GET', `/registered-models/search${q(params)}`)).registered_models ?? []).map((model: { name: string }) => model.name);

  it.each([
    ["name LIKE '%search'", ['Alpha-search', 'alpha-search', 'beta-search', 'gamma_search']],
    ["name LIKE 'alpha%'", ['alpha-search']],
    ["name ILIKE 'alpha%'", ['Alpha-search', 'alpha-search']],
    ["name = 'beta-search'", ['beta-search']],
    ["name != 'beta-search' and name like '%-search'", ['Alpha-search', 'alpha-search']],
    ["name LIKE '_lpha%'", ['Alpha-search', 'alpha-search']],
    ["name LIKE '*'", []],
    ["tags.kind = 'odd' and name like '%search'", ['alpha-search', 'gamma_search']],
    ["tag.`kind` ILIKE 'EV%'", ['Alpha-search', 'beta-search']],
    ["tags.`mlflow.prompt.is_prompt` = 'true'", ['prompt-search']],
    ["name LIKE 'prompt%'", []],
  ])('filters registered models: %s', async (filter, names) => {
    expect(await modelNames({ filter })).toEqual(names);
  });

  it('orders and pages registered models', async () => {
    const filter = "name LIKE '%search'";
    expect(await modelNames({ filter, order_by: 'last_updated_timestamp DESC' })).toEqual(['beta-search', 'gamma_search', 'alpha-search', 'Alpha-search']);
    const first = await ok('GET', `/registered-models/search${q({ filter, max_results: 3 })}`);
    expect(first.registered_models.map((m: any) => m.name)).toEqual(['Alpha-search', 'alpha-search', 'beta-search']);
    expect(first.next_page_token).toBe(Buffer.from('{"offset": 3}').toString('base64'));
    const second = await ok('GET', `/registered-models/search${q({ filter, max_results: 3, page_token: first.next_page_token })}`);
    expect(second).not.toHaveProperty('next_page_token');
    expect(second.registered_models.map((m: any) => m.name)).toEqual(['gamma_search']);
    const exact = await ok('GET', `/registered-models/search${q({ filter, max_results: 4 })}`);
    expect(exact).not.toHaveProperty('next_page_token');
  });

  const versionList = async (params: Record<string, string | number>) =>
    ((await ok('GET', `/model-versions/search${q(params)}`)).model_versions ?? []).map((v: { name: string; version: string }) => `${v.name}/${v.version}`);

  it.each([
    [`run_id = '${'f'.repeat(32)}'`, ['gamma_search/1']],
    [`run_id IN ('${'f'.repeat(32)}', '${'a'.repeat(32)}') and name like '%search'`, ['beta-search/3', 'gamma_search/1', 'beta-search/2', 'beta-search/1']],
    ["name = 'beta-search' and version_number >= 2", ['beta-search/3', 'beta-search/2']],
    ["name = 'beta-search' and version_number != 2", ['beta-search/3', 'beta-search/1']],
    ["source_path LIKE '%/m1'", ['beta-search/2']],
    ["tags.n = '0'", ['beta-search/1']],
    ["name ILIKE 'BETA%' and tags.n != '0'", ['beta-search/3', 'beta-search/2']],
  ])('filters model versions: %s', async (filter, versions) => {
    expect(await versionList({ filter })).toEqual(versions);
  });

  it('orders and pages model versions', async () => {
    const filter = "name = 'beta-search'";
    expect(await versionList({ filter, order_by: 'version_number ASC' })).toEqual(['beta-search/1', 'beta-search/2', 'beta-search/3']);
    const first = await ok('GET', `/model-versions/search${q({ filter, max_results: 2, order_by: 'creation_timestamp' })}`);
    expect(first.model_versions.map((v: any) => v.version)).toEqual(['1', '2']);
    const second = await ok('GET', `/model-versions/search${q({ filter, max_results: 2, order_by: 'creation_timestamp', page_token: first.next_page_token })}`);
    expect(second.model_versions.map((v: any) => v.version)).toEqual(['3']);
    expect(await ok('GET', `/model-versions/search${q({ filter: "name = 'nothing'" })}`)).toEqual({});
  });

  runScenarios(() => world.t, [
    ...[
      ["run_id = 'x'", "Invalid attribute key 'run_id' specified. Valid keys are '{'name'}'"],
      ['metrics.acc > 1', "Invalid entity type 'metrics'. Valid entity types are ('attribute', 'tag', 'tags')"],
      ["name IN ('a')", "Only the 'run_id' attribute supports comparison with a list of quoted string values."],
      ['name = 5', 'Expected a quoted string value or a list of quoted string values for attributes. Got value 5'],
      ['tags.a > 1', 'Invalid comparator for tag: >'],
      ['tags.a = 1', "Expected a quoted string value for tag (e.g. 'my-value'). Got value 1"],
      ["name = 'a' or name = 'b'", 'OR is not supported'],
      ['name = ', "Invalid search expression 'name = '"],
    ].map(([filter, message]) => ({
      name: `registered-model search refuses ${filter}`,
      path: `${API}/registered-models/search${q({ filter: filter! })}`,
      status: 400,
      json: { error_code: 'INVALID_PARAMETER_VALUE' },
      contains: [message!],
    })),
    ...[
      ["version_number = 'x'", 'Expected an integer value for attribute version_number'],
      ['version_number LIKE 1', 'Invalid comparator for attribute version_number: LIKE'],
      ["name IN ('a')", "Only the 'run_id' attribute supports comparison with a list of quoted string values."],
      ["creation_timestamp > 0", "Invalid attribute key 'creation_timestamp' specified."],
      ["source_path IS NULL", 'Invalid comparator for attribute: IS NULL'],
    ].map(([filter, message]) => ({
      name: `model-version search refuses ${filter}`,
      path: `${API}/model-versions/search${q({ filter: filter! })}`,
      status: 400,
      json: { error_code: 'INVALID_PARAMETER_VALUE' },
      contains: [message!],
    })),
    ...[
      [{ max_results: 1001 }, 'It must be at most 1000, but got value 1001'],
      [{ max_results: 0 }, 'It must be a positive integer, but got 0'],
      [{ max_results: 'ten' }, "for parameter 'max_results' supplied: Hint: Value was of type 'str'."],
      [{ order_by: 'tags.kind' }, 'Invalid order_by entity: tags'],
      [{ order_by: 'size DESC' }, "Invalid order by key 'size' specified."],
      [{ order_by: 'name DESC sideways' }, 'expected ASC, DESC or the end'],
      [{ page_token: '!!!' }, 'Invalid page token, could not base64-decode'],
      [{ page_token: Buffer.from('{"offset": -1}').toString('base64') }, 'Invalid page token'],
      [{ page_token: Buffer.from('offset').toString('base64') }, 'Invalid page token'],
    ].map(([params, message]) => ({
      name: `registered-model search refuses ${JSON.stringify(params)}`,
      path: `${API}/registered-models/search${q(params as Record<string, string>)}`,
      status: 400,
      json: { error_code: 'INVALID_PARAMETER_VALUE' },
      contains: [message as string],
    })),
    {
      name: 'model-version search refuses duplicate order fields',
      path: `${API}/model-versions/search?order_by=name&order_by=name+DESC`,
      status: 400,
      contains: ['`order_by` contains duplicate fields'],
    },
    {
      name: 'model-version search allows 200000 results at most',
      path: `${API}/model-versions/search${q({ max_results: 200_001 })}`,
      status: 400,
      contains: ['It must be at most 200000'],
    },
  ].map((scenario) => ({ ...scenario, headers: { Authorization: basicAdmin } })));
});


describe('search over many', () => {
  it('describes a thousand models and hundreds of versions with their tags', async () => {
    const db = world.t.app.db.$client;
    const projectId = world.t.app.projects.ensureDefault().id;
    db.transaction(() => {
      const model = db.prepare('insert into registered_models (project_id, name, creation_timestamp, last_updated_timestamp) values (?, ?, 0, 0)');
      const tag = db.prepare("insert into registered_model_tags (model_id, key, value) values (?, 'n', ?)");
      for (let index = 0; index < 1100; index++) tag.run(model.run(projectId, `bulk-${String(index).padStart(4, '0')}`).lastInsertRowid, String(index));
      const id = model.run(projectId, 'bulk-versions').lastInsertRowid;
      const version = db.prepare("insert into model_versions (model_id, version, source, storage_location, creation_timestamp, last_updated_timestamp) values (?, ?, 's3://b/x', 's3://b/x', 0, 0)");
      const versionTag = db.prepare("insert into model_version_tags (model_id, version, key, value) values (?, ?, 'v', ?)");
      for (let number = 1; number <= 700; number++) {
        version.run(id, number);
        versionTag.run(id, number, String(number));
      }
    })();
    const { registered_models, next_page_token } = await ok('GET', `/registered-models/search${q({ filter: "name LIKE 'bulk-%'", max_results: 1000 })}`);
    expect(registered_models).toHaveLength(1000);
    expect(next_page_token).toBeDefined();
    expect(registered_models.every((model: any, index: number) => model.tags[0].value === String(index))).toBe(true);
    const { model_versions } = await ok('GET', `/model-versions/search${q({ filter: "name = 'bulk-versions'", order_by: 'version_number', max_results: 700 })}`);
    expect(model_versions.map((version: any) => version.tags)).toEqual(Array.from({ length: 700 }, (_, index) => [{ key: 'v', value: String(index + 1) }]));
    const { registered_model } = await ok('GET', `/registered-models/get${q({ name: 'bulk-versions' })}`);
    expect(registered_model.latest_versions).toEqual([expect.objectContaining({ version: '700', tags: [{ key: 'v', value: '700' }] })]);
  });
});
