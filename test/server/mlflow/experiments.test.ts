import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, createTestApp, MEMBER, type TestApp } from '../../helpers/test-app.ts';
import { runScenarios } from '../../helpers/scenarios.ts';
import { addUser, API, basicAuth, expectError, mlflowAs, type MlflowClient } from './tracking-client.ts';

let t: TestApp;
let admin: MlflowClient;
let member: MlflowClient;
let viewer: MlflowClient;
let outsider: MlflowClient;

beforeAll(async () => {
  t = await createTestApp();
  admin = mlflowAs(t, ADMIN);
  member = mlflowAs(t, MEMBER);
  viewer = mlflowAs(t, await addUser(t, 'vic', 'viewer'));
  outsider = mlflowAs(t, await addUser(t, 'olga', undefined));
  t.app.projects.create({ name: 'vision' }, { actor: 'test' });
});

const experimentNamed = (name: string) => t.app.db.$client.prepare('SELECT * FROM experiments WHERE name = ?').get(name) as Record<string, unknown>;

describe('the Default experiment', () => {
  it('exists with id 0 in the default project, as the mlflow client expects', async () => {
    const { experiment } = await admin.ok('GET', '/experiments/get', { experiment_id: '0' });
    expect(experiment).toEqual({
      experiment_id: '0',
      name: 'Default',
      artifact_location: 'mlflow-artifacts:/0',
      lifecycle_stage: 'active',
      creation_time: expect.any(Number),
      last_update_time: expect.any(Number),
    });
    expect(experimentNamed('Default').project_id).toBe(t.app.projects.ensureDefault().id);
  });

  it('is created once: ensureDefault again changes nothing', () => {
    t.app.tracking.experiments.ensureDefault();
    expect(t.app.db.$client.prepare("SELECT count(*) AS n FROM experiments WHERE name = 'Default'").get()).toEqual({ n: 1 });
  });
});

describe('experiments/create, get, get-by-name', () => {
  it('creates an experiment with tags and reads it back by id and by name in MLflow shape', async () => {
    const id = await member.createExperiment('shapes', [
      { key: 'purpose', value: 'smoke' },
      { key: 'team', value: 'vision' },
    ]);
    expect(id).toMatch(/^[1-9]\d*$/);
    const expected = {
      experiment_id: id,
      name: 'shapes',
      artifact_location: `mlflow-artifacts:/${id}`,
      lifecycle_stage: 'active',
      creation_time: t.clock.now,
      last_update_time: t.clock.now,
      tags: [
        { key: 'purpose', value: 'smoke' },
        { key: 'team', value: 'vision' },
      ],
    };
    expect((await member.ok('GET', '/experiments/get', { experiment_id: id })).experiment).toEqual(expected);
    expect((await member.ok('GET', '/experiments/get-by-name', { experiment_name: 'shapes' })).experiment).toEqual(expected);
  });

  it('leaves tags out when there are none, and ignores a requested artifact_location', async () => {
    const id = (await member.ok('POST', '/experiments/create', { name: 'plain', artifact_location: 's3://elsewhere' })).experiment_id;
    const { experiment } = await member.ok('GET', '/experiments/get', { experiment_id: id });
    expect(experiment).not.toHaveProperty('tags');
    expect(experiment.artifact_location).toBe(`mlflow-artifacts:/${id}`);
  });

  it('answers on the ajax-api prefix too', async () => {
    const response = await t.request('/ajax-api/2.0/mlflow/experiments/get?experiment_id=0', { headers: { Authorization: t.basic(ADMIN) } });
    expect(response.status).toBe(200);
  });

  it('refuses a duplicate name with RESOURCE_ALREADY_EXISTS and stores nothing', async () => {
    await member.createExperiment('twice');
    const before = t.app.db.$client.prepare('SELECT count(*) AS n FROM experiments').get();
    expectError(await member.post('/experiments/create', { name: 'twice' }), 400, 'RESOURCE_ALREADY_EXISTS', 'Experiment(name=twice) already exists.');
    expect(t.app.db.$client.prepare('SELECT count(*) AS n FROM experiments').get()).toEqual(before);
  });

  it('answers get-by-name of a missing experiment with 404, which mlflow.set_experiment relies on', async () => {
    expectError(
      await member.get('/experiments/get-by-name', { experiment_name: 'nope' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      "Could not find experiment with name 'nope'",
    );
  });

  it('answers unknown and malformed ids', async () => {
    expectError(await member.get('/experiments/get', { experiment_id: '999' }), 404, 'RESOURCE_DOES_NOT_EXIST', 'No Experiment with id=999 exists');
    expectError(await member.get('/experiments/get', { experiment_id: 'abc' }), 400, 'INVALID_PARAMETER_VALUE', "Invalid experiment ID: 'abc'");
    expectError(await member.get('/experiments/get'), 400, 'INVALID_PARAMETER_VALUE', "Missing value for required parameter 'experiment_id'");
  });
});

describe('bad experiment requests get 4xx and change nothing', () => {
  const json = (body: unknown) => ({
    method: 'POST',
    path: `${API}/experiments/create`,
    body,
    headers: { Authorization: basicAuth(ADMIN), 'Content-Type': 'application/json' },
  });
  runScenarios(() => t, [
    { name: 'no name', ...json({}), status: 400, contains: ["Missing value for required parameter 'name'"] },
    { name: 'empty name', ...json({ name: '' }), status: 400, contains: ['INVALID_PARAMETER_VALUE'] },
    { name: 'a number for the name', ...json({ name: 5 }), status: 400, contains: ["Invalid value 5 for parameter 'name' supplied", "type 'int'"] },
    { name: 'a name over 500 characters', ...json({ name: 'x'.repeat(501) }), status: 400, contains: ['Experiment name exceeds the maximum length of 500'] },
    { name: 'tags that are not a list', ...json({ name: 'bad-tags', tags: 'x=1' }), status: 400, contains: ['INVALID_PARAMETER_VALUE'] },
    { name: 'a tag without a key', ...json({ name: 'bad-tags', tags: [{ value: 'v' }] }), status: 400, contains: ["'tags[0].key'"] },
    { name: 'a tag key that is a path in disguise', ...json({ name: 'bad-tags', tags: [{ key: 'a//b', value: 'v' }] }), status: 400, contains: ['would resolve to'] },
    { name: 'a tag key of 251 characters', ...json({ name: 'bad-tags', tags: [{ key: 'k'.repeat(251), value: 'v' }] }), status: 400, contains: ['250'] },
    { name: 'a tag value of 5001 characters', ...json({ name: 'bad-tags', tags: [{ key: 'k', value: 'v'.repeat(5001) }] }), status: 400, contains: ['5000'] },
    { name: 'an artifact_location that is not text', ...json({ name: 'bad-location', artifact_location: 1 }), status: 400, contains: ['artifact_location'] },
    { name: 'malformed JSON', ...json('{"name": '), status: 400, contains: ['not valid JSON'] },
    { name: 'a JSON array', ...json('[1]'), status: 400, contains: ['JSON object'] },
    {
      name: 'a form instead of JSON',
      method: 'POST',
      path: `${API}/experiments/create`,
      body: new URLSearchParams({ name: 'form' }),
      headers: { Authorization: basicAuth(ADMIN) },
      status: 415,
      contains: ['application/json'],
    },
    { name: 'no credentials', method: 'POST', path: `${API}/experiments/create`, body: { name: 'anon' }, status: 401 },
  ]);

  it('stored none of them', () => {
    expect(t.app.db.$client.prepare("SELECT name FROM experiments WHERE name IN ('bad-tags', 'bad-location', 'form', 'anon', '')").all()).toEqual([]);
  });
});

describe('experiments/search', () => {
  let ids: Record<string, string>;
  beforeAll(async () => {
    ids = {};
    for (const [name, team] of [
      ['search-alpha', 'red'],
      ['search-beta', 'blue'],
      ['search-gamma', 'red'],
      ['Search-Delta', 'green'],
    ] as const) {
      ids[name] = await member.createExperiment(name, [{ key: 'team', value: team }]);
      t.clock.advance(1000);
    }
    await member.ok('POST', '/experiments/delete', { experiment_id: ids['search-gamma'] });
  });

  const names = (answer: { experiments?: Array<{ name: string }> }) => (answer.experiments ?? []).map(({ name }) => name);
  const search = (body: Record<string, unknown>) => member.ok('POST', '/experiments/search', body);

  const cases: Array<[string, Record<string, unknown>, string[]]> = [
    ['by exact name', { filter: "name = 'search-alpha'" }, ['search-alpha']],
    ['by name LIKE (case-sensitive)', { filter: "name LIKE 'search-%'", order_by: ['name ASC'] }, ['search-alpha', 'search-beta']],
    ['by name ILIKE', { filter: "name ILIKE 'search-%'", order_by: ['name ASC'] }, ['Search-Delta', 'search-alpha', 'search-beta']],
    ['by name !=', { filter: "name != 'search-alpha' and name LIKE '%search-%'" }, ['search-beta']],
    ['by tag', { filter: "tags.team = 'red'" }, ['search-alpha']],
    ['by tag with backticks', { filter: "tags.`team` LIKE 'bl%'" }, ['search-beta']],
    ['deleted only', { view_type: 'DELETED_ONLY', filter: "name LIKE 'search-%'" }, ['search-gamma']],
    ['all, by name descending', { view_type: 'ALL', filter: "name ILIKE 'search-%'", order_by: ['name DESC'] }, ['search-gamma', 'search-beta', 'search-alpha', 'Search-Delta']],
    ['newest first by default', { filter: "name ILIKE 'search-%'" }, ['Search-Delta', 'search-beta', 'search-alpha']],
    ['view type by number', { view_type: 3, filter: "name = 'search-gamma'" }, ['search-gamma']],
  ];
  for (const [name, body, expected] of cases) {
    it(name, async () => expect(names(await search(body))).toEqual(expected));
  }

  it('finds experiments created after a time', async () => {
    const since = t.app.db.$client.prepare("SELECT creation_time AS at FROM experiments WHERE name = 'search-beta'").get() as { at: number };
    expect(names(await search({ filter: `creation_time >= ${since.at} and name ILIKE 'search-%'`, order_by: ['creation_time'] }))).toEqual([
      'search-beta',
      'Search-Delta',
    ]);
  });

  it('answers GET with query parameters as the REST docs allow', async () => {
    const answer = await member.ok('GET', '/experiments/search', { filter: "name = 'search-beta'", max_results: 5 });
    expect(names(answer)).toEqual(['search-beta']);
  });

  it('pages with opaque tokens until the last page, which has none', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const answer = await search({ filter: "name ILIKE 'search-%'", view_type: 'ALL', order_by: ['name ASC'], max_results: 3, ...(token && { page_token: token }) });
      seen.push(...names(answer));
      token = answer.next_page_token;
      pages++;
    } while (token);
    expect(pages).toBe(2);
    expect(seen).toEqual(['Search-Delta', 'search-alpha', 'search-beta', 'search-gamma']);
  });

  it('answers an empty search with {}', async () => {
    expect(await search({ filter: "name = 'none-such'" })).toEqual({});
  });

  const bad: Array<[string, Record<string, unknown>, string]> = [
    ['a filter with bad syntax', { filter: 'name = ' }, 'Invalid search expression'],
    ['an unknown attribute', { filter: "owner = 'x'" }, "Invalid attribute key 'owner'"],
    ['metrics, which experiments lack', { filter: 'metrics.acc > 1' }, "Invalid entity type 'metrics'"],
    ['LIKE on a time', { filter: "creation_time LIKE '1%'" }, 'Invalid comparator'],
    ['an unquoted name', { filter: 'name = 5' }, 'quoted string'],
    ['an order on a tag', { order_by: ['tags.team'] }, 'order by attributes only'],
    ['max_results 0', { max_results: 0 }, "parameter 'max_results'"],
    ['max_results over 50000', { max_results: 50001 }, "parameter 'max_results'"],
    ['a page token that is not base64', { page_token: '!!' }, 'Invalid page token'],
    ['a page token of another shape', { page_token: Buffer.from('{"page": 2}').toString('base64') }, 'Invalid page token'],
    ['an unknown view type', { view_type: 'SOME' }, "'view_type'"],
  ];
  for (const [name, body, message] of bad) {
    it(`refuses ${name}`, async () => expectError(await member.post('/experiments/search', body), 400, 'INVALID_PARAMETER_VALUE', message));
  }
});

describe('experiments/update, delete, restore and tags', () => {
  it('renames, and the old name is free again', async () => {
    const id = await member.createExperiment('old-name');
    t.clock.advance(5);
    expect(await member.ok('POST', '/experiments/update', { experiment_id: id, new_name: 'new-name' })).toEqual({});
    const { experiment } = await member.ok('GET', '/experiments/get', { experiment_id: id });
    expect(experiment.name).toBe('new-name');
    expect(experiment.last_update_time).toBe(t.clock.now);
    expectError(await member.get('/experiments/get-by-name', { experiment_name: 'old-name' }), 404, 'RESOURCE_DOES_NOT_EXIST');
    await member.createExperiment('old-name');
  });

  it('refuses renaming onto a taken name, to nothing, or a deleted experiment', async () => {
    const id = await member.createExperiment('rename-me');
    await member.createExperiment('taken');
    expectError(await member.post('/experiments/update', { experiment_id: id, new_name: 'taken' }), 400, 'RESOURCE_ALREADY_EXISTS');
    expectError(await member.post('/experiments/update', { experiment_id: id }), 400, 'INVALID_PARAMETER_VALUE', "'new_name'");
    await member.ok('POST', '/experiments/delete', { experiment_id: id });
    expectError(await member.post('/experiments/update', { experiment_id: id, new_name: 'fresh' }), 400, 'INVALID_PARAMETER_VALUE', 'non-active');
    expect(experimentNamed('rename-me')).toBeDefined();
  });

  it('deletes with its runs, restores with them, and refuses deleting twice or restoring an active one', async () => {
    const id = await member.createExperiment('doomed');
    const kept = await member.createRun(id);
    const deletedBefore = await member.createRun(id);
    await member.ok('POST', '/runs/delete', { run_id: deletedBefore });
    t.clock.advance(10);
    await member.ok('POST', '/experiments/delete', { experiment_id: id });
    expect((await member.ok('GET', '/experiments/get', { experiment_id: id })).experiment.lifecycle_stage).toBe('deleted');
    expect((await member.ok('GET', '/runs/get', { run_id: kept })).run.info.lifecycle_stage).toBe('deleted');
    expectError(await member.post('/experiments/delete', { experiment_id: id }), 404, 'RESOURCE_DOES_NOT_EXIST');
    expectError(await member.post('/runs/create', { experiment_id: id }), 400, 'INVALID_PARAMETER_VALUE', "must be in the 'active' state");

    await member.ok('POST', '/experiments/restore', { experiment_id: id });
    expect((await member.ok('GET', '/experiments/get', { experiment_id: id })).experiment.lifecycle_stage).toBe('active');
    expect((await member.ok('GET', '/runs/get', { run_id: kept })).run.info.lifecycle_stage).toBe('active');
    expect((await member.ok('GET', '/runs/get', { run_id: deletedBefore })).run.info.lifecycle_stage).toBe('deleted');
    expectError(await member.post('/experiments/restore', { experiment_id: id }), 404, 'RESOURCE_DOES_NOT_EXIST');
  });

  it('sets, overwrites and deletes experiment tags', async () => {
    const id = await member.createExperiment('tagged');
    await member.ok('POST', '/experiments/set-experiment-tag', { experiment_id: id, key: 'k', value: 'v1' });
    await member.ok('POST', '/experiments/set-experiment-tag', { experiment_id: id, key: 'other', value: '' });
    await member.ok('POST', '/experiments/set-experiment-tag', { experiment_id: id, key: 'k', value: 'v2' });
    expect((await member.ok('GET', '/experiments/get', { experiment_id: id })).experiment.tags).toEqual([
      { key: 'k', value: 'v2' },
      { key: 'other', value: '' },
    ]);
    await member.ok('POST', '/experiments/delete-experiment-tag', { experiment_id: id, key: 'k' });
    expect((await member.ok('GET', '/experiments/get', { experiment_id: id })).experiment.tags).toEqual([{ key: 'other', value: '' }]);
    expectError(
      await member.post('/experiments/delete-experiment-tag', { experiment_id: id, key: 'k' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      `No tag with name: k in experiment with id ${id}`,
    );
    expectError(await member.post('/experiments/set-experiment-tag', { experiment_id: id, value: 'v' }), 400, 'INVALID_PARAMETER_VALUE', "'key'");
    expectError(await member.post('/experiments/set-experiment-tag', { experiment_id: id, key: 'k', value: 'v'.repeat(5001) }), 400, 'INVALID_PARAMETER_VALUE');
    await member.ok('POST', '/experiments/delete', { experiment_id: id });
    expectError(
      await member.post('/experiments/set-experiment-tag', { experiment_id: id, key: 'k', value: 'v' }),
      400,
      'INVALID_PARAMETER_VALUE',
      "must be in the 'active' state",
    );
  });

  it('answers 404 for unknown experiments on every write', async () => {
    for (const [path, body] of [
      ['/experiments/update', { experiment_id: '4040', new_name: 'x' }],
      ['/experiments/delete', { experiment_id: '4040' }],
      ['/experiments/restore', { experiment_id: '4040' }],
      ['/experiments/set-experiment-tag', { experiment_id: '4040', key: 'k', value: 'v' }],
      ['/experiments/delete-experiment-tag', { experiment_id: '4040', key: 'k' }],
    ] as const) {
      expectError(await member.post(path, body), 404, 'RESOURCE_DOES_NOT_EXIST', 'No Experiment with id=4040 exists');
    }
  });
});

describe('projects and roles', () => {
  it('puts an experiment into the project its trainyard.project tag names, without keeping the tag', async () => {
    const id = await admin.createExperiment('in-vision', [
      { key: 'trainyard.project', value: 'vision' },
      { key: 'kept', value: 'yes' },
    ]);
    expect(experimentNamed('in-vision').project_id).toBe(t.app.projects.get('vision').id);
    expect((await admin.ok('GET', '/experiments/get', { experiment_id: id })).experiment.tags).toEqual([{ key: 'kept', value: 'yes' }]);
  });

  it('hides experiments of projects the caller is not in, as if they did not exist', async () => {
    const id = experimentNamed('in-vision').id;
    expectError(await member.get('/experiments/get', { experiment_id: String(id) }), 404, 'RESOURCE_DOES_NOT_EXIST', `No Experiment with id=${id} exists`);
    expectError(await member.get('/experiments/get-by-name', { experiment_name: 'in-vision' }), 404, 'RESOURCE_DOES_NOT_EXIST');
    expect((await member.ok('POST', '/experiments/search', { filter: "name = 'in-vision'" })).experiments).toBeUndefined();
    expect((await outsider.ok('POST', '/experiments/search', {})).experiments).toBeUndefined();
    expectError(await member.post('/experiments/delete', { experiment_id: String(id) }), 404, 'RESOURCE_DOES_NOT_EXIST');
  });

  it('refuses creating in a project the caller cannot see, or one that does not exist', async () => {
    expectError(await member.post('/experiments/create', { name: 'sneaky', tags: [{ key: 'trainyard.project', value: 'vision' }] }), 404, 'RESOURCE_DOES_NOT_EXIST');
    expectError(await admin.post('/experiments/create', { name: 'sneaky', tags: [{ key: 'trainyard.project', value: 'atlantis' }] }), 404, 'RESOURCE_DOES_NOT_EXIST');
    expect(experimentNamed('sneaky')).toBeUndefined();
  });

  it('lets a viewer read and refuses their writes with 403', async () => {
    const id = await member.createExperiment('viewed', [{ key: 'k', value: 'v' }]);
    expect((await viewer.ok('GET', '/experiments/get', { experiment_id: id })).experiment.name).toBe('viewed');
    expect((await viewer.ok('POST', '/experiments/search', { filter: "name = 'viewed'" })).experiments).toHaveLength(1);
    for (const [path, body] of [
      ['/experiments/create', { name: 'by-viewer' }],
      ['/experiments/update', { experiment_id: id, new_name: 'by-viewer' }],
      ['/experiments/delete', { experiment_id: id }],
      ['/experiments/set-experiment-tag', { experiment_id: id, key: 'k', value: 'changed' }],
      ['/experiments/delete-experiment-tag', { experiment_id: id, key: 'k' }],
    ] as const) {
      expectError(await viewer.post(path, body), 403, 'PERMISSION_DENIED');
    }
    expect((await viewer.ok('GET', '/experiments/get', { experiment_id: id })).experiment).toMatchObject({
      name: 'viewed',
      lifecycle_stage: 'active',
      tags: [{ key: 'k', value: 'v' }],
    });
  });
});

describe('experiments/search-datasets', () => {
  const logInput = (runId: string, name: string, digest: string, context?: string) =>
    member.ok('POST', '/runs/log-inputs', {
      run_id: runId,
      datasets: [{ ...(context && { tags: [{ key: 'mlflow.data.context', value: context }] }), dataset: { name, digest, source_type: 'local', source: '{}' } }],
    });

  it('lists each distinct dataset the experiments runs used, with its context', async () => {
    const first = await member.createExperiment('datasets-a');
    const second = await member.createExperiment('datasets-b');
    const [r1, r2, r3] = [await member.createRun(first), await member.createRun(first), await member.createRun(second)];
    await logInput(r1!, 'train', 'd1', 'training');
    await logInput(r2!, 'train', 'd1', 'training');
    await logInput(r2!, 'holdout', 'd2');
    await logInput(r3!, 'eval', 'd3', 'evaluation');
    const { dataset_summaries } = await viewer.ok('POST', '/experiments/search-datasets', { experiment_ids: [first, second] });
    expect(dataset_summaries).toEqual([
      { experiment_id: first, name: 'holdout', digest: 'd2' },
      { experiment_id: first, name: 'train', digest: 'd1', context: 'training' },
      { experiment_id: second, name: 'eval', digest: 'd3', context: 'evaluation' },
    ]);
    expect(await member.ok('POST', '/experiments/search-datasets', { experiment_ids: ['0'] })).toEqual({});
  });

  it('refuses no experiments, more than 20, and experiments the caller cannot see', async () => {
    expectError(await member.post('/experiments/search-datasets', {}), 400, 'INVALID_PARAMETER_VALUE', 'at least one experiment_id');
    const many = Array.from({ length: 21 }, (_, i) => String(i));
    expectError(await member.post('/experiments/search-datasets', { experiment_ids: many }), 400, 'INVALID_PARAMETER_VALUE', 'Received 21 experiment_ids');
    expectError(await outsider.post('/experiments/search-datasets', { experiment_ids: ['0'] }), 404, 'RESOURCE_DOES_NOT_EXIST');
  });
});
