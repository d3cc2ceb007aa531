import { beforeAll, describe, expect, it } from 'vitest';
import { experiments, metrics, runs } from '../../../src/db/schema/tracking.ts';
import { insertExperiment } from '../../../src/tracking/experiment-queries.ts';
import { findLoggedModel } from '../../../src/tracking/logged-model-queries.ts';
import { eq } from 'drizzle-orm';
import { runScenarios } from '../../helpers/scenarios.ts';
import { ADMIN, MEMBER, createTestApp, type TestApp } from '../../helpers/test-app.ts';

/** Experiments in the default project (mia edits), `secret` (mia has no role), `shared` (mia views), and a deleted one. */
const MINE = 21;
const SECRET = 22;
const SHARED = 23;
const GONE = 24;
const RUN = 'c'.repeat(32);
const API = '/api/2.0/mlflow';

let t: TestApp;
const admin = () => ({ Authorization: t.basic(ADMIN) });
const member = () => ({ Authorization: t.basic(MEMBER) });

type Json = Record<string, any>;

async function call(method: string, path: string, body?: unknown, headers = admin()): Promise<{ status: number; json: Json }> {
  const response = await t.request(`${API}${path}`, {
    method,
    headers: { ...headers, ...(body !== undefined && { 'Content-Type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as Json };
}

async function create(body: Json, headers = admin()): Promise<Json> {
  const { status, json } = await call('POST', '/logged-models', body, headers);
  expect(status, JSON.stringify(json)).toBe(200);
  return json.model;
}

function logMetric(modelId: string, key: string, value: number, timestamp: number, step = 0, dataset?: { name: string; digest: string }) {
  t.app.db
    .insert(metrics)
    .values({ runUuid: RUN, key, value, timestamp, step, modelId, datasetName: dataset?.name, datasetDigest: dataset?.digest })
    .run();
}

beforeAll(async () => {
  t = await createTestApp();
  const by = { actor: 'test' };
  const projects = { [MINE]: t.app.projects.ensureDefault(), [SECRET]: t.app.projects.create({ name: 'secret' }, by), [SHARED]: t.app.projects.create({ name: 'shared' }, by) };
  t.app.projects.setMember(projects[SHARED], MEMBER.username, 'viewer', by);
  for (const [id, project] of Object.entries({ ...projects, [GONE]: projects[MINE] })) {
    insertExperiment(t.app.db, { id: Number(id), projectId: project.id, name: `exp-${id}`, artifactLocation: `mlflow-artifacts:/${id}`, creationTime: 1, lastUpdateTime: 1 });
  }
  t.app.db.update(experiments).set({ lifecycleStage: 'deleted' }).where(eq(experiments.id, GONE)).run();
  t.app.db.insert(runs).values({ runUuid: RUN, experimentId: MINE, status: 'RUNNING', startTime: 1, artifactUri: `mlflow-artifacts:/${MINE}/${RUN}/artifacts` }).run();
});

describe('the logged-model lifecycle the 3.x client drives', () => {
  it('creates, reads, finalizes and tags a model in MLflow’s shapes', async () => {
    const created = t.clock.now;
    const model = await create({
      experiment_id: String(MINE),
      name: 'model',
      source_run_id: RUN,
      tags: [
        { key: 'mlflow.user', value: 'root' },
        { key: 'mlflow.source.name', value: '/home/alice/project/smoke_model.py' },
        { key: 'mlflow.source.type', value: 'LOCAL' },
      ],
    });
    const id = model.info.model_id as string;
    expect(id).toMatch(/^m-[0-9a-f]{32}$/);
    expect(model).toEqual({
      info: {
        model_id: id,
        experiment_id: String(MINE),
        name: 'model',
        creation_timestamp_ms: created,
        last_updated_timestamp_ms: created,
        artifact_uri: `mlflow-artifacts:/${MINE}/models/${id}/artifacts`,
        status: 'LOGGED_MODEL_PENDING',
        model_type: '',
        source_run_id: RUN,
        tags: [
          { key: 'mlflow.source.name', value: '/home/alice/project/smoke_model.py' },
          { key: 'mlflow.source.type', value: 'LOCAL' },
          { key: 'mlflow.user', value: 'root' },
        ],
      },
      data: {},
    });

    logMetric(id, 'train_acc', 0.92, 1795319127409);
    const read = await call('GET', `/logged-models/${id}`);
    expect(read.json.model.data).toEqual({
      metrics: [{ key: 'train_acc', value: 0.92, timestamp: 1795319127409, step: 0, model_id: id, run_id: RUN }],
    });

    t.clock.advance(2231);
    const finalized = await call('PATCH', `/logged-models/${id}`, { model_id: id, status: 'LOGGED_MODEL_READY' });
    expect(finalized.status).toBe(200);
    expect(finalized.json.model.info).toMatchObject({ status: 'LOGGED_MODEL_READY', creation_timestamp_ms: created, last_updated_timestamp_ms: created + 2231 });

    const tagged = await call('PATCH', `/logged-models/${id}/tags`, { tags: [{ key: 'mlflow.modelVersions', value: '[{"name": "skl", "version": 1}]' }] });
    expect(tagged).toEqual({ status: 200, json: {} });
    const after = (await call('GET', `/logged-models/${id}`)).json.model.info;
    expect(after.tags[0]).toEqual({ key: 'mlflow.modelVersions', value: '[{"name": "skl", "version": 1}]' });
    expect(after.last_updated_timestamp_ms).toBe(created + 2231);
  });

  it('stores params, keeps logging idempotent and refuses a changed value', async () => {
    const model = await create({ experiment_id: String(MINE), name: 'with-params', params: [{ key: 'lr', value: '0.01' }] });
    const id = model.info.model_id;
    expect(model.data).toEqual({ params: [{ key: 'lr', value: '0.01' }] });
    expect((await call('POST', `/logged-models/${id}/params`, { model_id: id, params: [{ key: 'batch', value: '32' }, { key: 'lr', value: '0.01' }] })).json).toEqual({});
    const changed = await call('POST', `/logged-models/${id}/params`, { model_id: id, params: [{ key: 'lr', value: '0.1' }, { key: 'epochs', value: '3' }] });
    expect(changed.status).toBe(400);
    expect(changed.json.message).toContain('Changing param values is not allowed');
    expect((await call('GET', `/logged-models/${id}`)).json.model.data.params).toEqual([
      { key: 'batch', value: '32' },
      { key: 'lr', value: '0.01' },
    ]);
  });

  it('writes metrics faithfully: NaN and infinities, datasets', async () => {
    const id = (await create({ experiment_id: String(MINE), name: 'odd-metrics' })).info.model_id;
    logMetric(id, 'loss', Number.NaN, 10);
    logMetric(id, 'loss', Infinity, 11, 1);
    logMetric(id, 'acc', 0.5, 12, 0, { name: 'eval', digest: 'abc123' });
    expect((await call('GET', `/logged-models/${id}`)).json.model.data.metrics).toEqual([
      { key: 'loss', value: 'NaN', timestamp: 10, step: 0, model_id: id, run_id: RUN },
      { key: 'loss', value: 'Infinity', timestamp: 11, step: 1, model_id: id, run_id: RUN },
      { key: 'acc', value: 0.5, timestamp: 12, step: 0, dataset_name: 'eval', dataset_digest: 'abc123', model_id: id, run_id: RUN },
    ]);
  });

  it('deletes a model, which is then gone for every call', async () => {
    const id = (await create({ experiment_id: String(MINE), name: 'doomed' })).info.model_id;
    expect(await call('DELETE', `/logged-models/${id}`, { model_id: id })).toEqual({ status: 200, json: {} });
    const gone = { status: 404, json: { error_code: 'RESOURCE_DOES_NOT_EXIST', message: `Logged model with ID '${id}' not found.` } };
    expect(await call('GET', `/logged-models/${id}`)).toEqual(gone);
    expect(await call('DELETE', `/logged-models/${id}`)).toEqual(gone);
    expect(await call('PATCH', `/logged-models/${id}`, { status: 'LOGGED_MODEL_READY' })).toEqual(gone);
    expect(findLoggedModel(t.app.db, id)?.lifecycleStage).toBe('deleted');
  });

  it('names an unnamed model like MLflow names unnamed runs', async () => {
    const model = await create({ experiment_id: String(MINE), name: '' });
    expect(model.info.name).toMatch(/^[a-z]+-[a-z]+-\d{1,3}$/);
  });

  it('serves the same routes under /ajax-api', async () => {
    const id = (await create({ experiment_id: String(MINE), name: 'ajax' })).info.model_id;
    const response = await t.request(`/ajax-api/2.0/mlflow/logged-models/${id}`, { headers: admin() });
    expect(((await response.json()) as Json).model.info.name).toBe('ajax');
  });
});

describe('roles', () => {
  let shared: string;
  let secret: string;
  beforeAll(async () => {
    shared = (await create({ experiment_id: String(SHARED), name: 'shared-model' })).info.model_id;
    secret = (await create({ experiment_id: String(SECRET), name: 'secret-model' })).info.model_id;
  });

  it('lets a viewer read and nothing more, and hides what the caller may not see', async () => {
    expect((await call('GET', `/logged-models/${shared}`, undefined, member())).status).toBe(200);
    for (const [method, path, body] of [
      ['PATCH', `/logged-models/${shared}`, { status: 'LOGGED_MODEL_READY' }],
      ['PATCH', `/logged-models/${shared}/tags`, { tags: [{ key: 'k', value: 'v' }] }],
      ['POST', `/logged-models/${shared}/params`, { params: [{ key: 'k', value: 'v' }] }],
      ['DELETE', `/logged-models/${shared}/tags/k`, undefined],
      ['DELETE', `/logged-models/${shared}`, undefined],
      ['POST', '/logged-models', { experiment_id: String(SHARED), name: 'nope' }],
    ] as const) {
      const { status, json } = await call(method, path, body, member());
      expect(status, `${method} ${path}`).toBe(403);
      expect(json.error_code).toBe('PERMISSION_DENIED');
    }
    expect(await call('GET', `/logged-models/${secret}`, undefined, member())).toEqual({
      status: 404,
      json: { error_code: 'RESOURCE_DOES_NOT_EXIST', message: `Logged model with ID '${secret}' not found.` },
    });
    expect((await call('POST', '/logged-models', { experiment_id: String(SECRET) }, member())).json.message).toBe(`No Experiment with id=${SECRET} exists`);
    expect(findLoggedModel(t.app.db, shared)?.status).toBe('LOGGED_MODEL_PENDING');
  });
});

describe('bad requests', () => {
  let id: string;
  beforeAll(async () => {
    id = (await create({ experiment_id: String(MINE), name: 'target' })).info.model_id;
  });
  const invalid = { error_code: 'INVALID_PARAMETER_VALUE' };

  runScenarios(() => t, [
    { name: 'anonymous callers create nothing', method: 'POST', path: `${API}/logged-models`, body: { experiment_id: String(MINE) }, status: 401 },
    { name: 'anonymous callers read nothing', path: `${API}/logged-models/m-${'0'.repeat(32)}`, status: 401 },
  ]);

  it('answers each with a 4xx in MLflow’s shape and stores nothing', async () => {
    const before = (await call('POST', '/logged-models/search', { experiment_ids: [String(MINE)], max_results: 1000 })).json.models.length;
    const cases: Array<[string, string, unknown, number, Json]> = [
      ['POST', '/logged-models', { name: 'm' }, 400, { ...invalid, message: expect.stringContaining("Missing value for required parameter 'experiment_id'") }],
      ['POST', '/logged-models', { experiment_id: 21 }, 400, invalid],
      ['POST', '/logged-models', { experiment_id: 'abc' }, 400, invalid],
      ['POST', '/logged-models', { experiment_id: '999' }, 404, { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'No Experiment with id=999 exists' }],
      ['POST', '/logged-models', { experiment_id: String(GONE) }, 400, { ...invalid, message: expect.stringContaining("must be in the 'active' state") }],
      ['POST', '/logged-models', { experiment_id: String(MINE), name: 'a/b' }, 400, { ...invalid, message: expect.stringContaining('Invalid model name') }],
      ['POST', '/logged-models', { experiment_id: String(MINE), name: 'x'.repeat(300) }, 400, invalid],
      ['POST', '/logged-models', { experiment_id: String(MINE), tags: 'mlflow.user=root' }, 400, invalid],
      ['POST', '/logged-models', { experiment_id: String(MINE), tags: [{ value: 'no key' }] }, 400, { ...invalid, message: expect.stringContaining("'tags[0].key'") }],
      ['POST', '/logged-models', { experiment_id: String(MINE), tags: [{ key: 'k'.repeat(251), value: 'v' }] }, 400, invalid],
      ['POST', '/logged-models', { experiment_id: String(MINE), params: [{ key: 'k', value: 'v'.repeat(6001) }] }, 400, invalid],
      ['POST', '/logged-models', { experiment_id: String(MINE), params: [{ key: 'k', value: 5 }] }, 400, invalid],
      ['POST', '/logged-models', [1, 2], 400, invalid],
      ['PATCH', `/logged-models/${id}`, { model_id: id }, 400, { ...invalid, message: expect.stringContaining("'status'") }],
      ['PATCH', `/logged-models/${id}`, { status: 'DONE' }, 400, invalid],
      ['PATCH', `/logged-models/${id}`, { status: 0 }, 400, invalid],
      ['PATCH', `/logged-models/${id}/tags`, { tags: [{ key: '' }] }, 400, invalid],
      ['DELETE', `/logged-models/${id}/tags/missing`, undefined, 404, { error_code: 'RESOURCE_DOES_NOT_EXIST' }],
      ['GET', '/logged-models/m-00000000000000000000000000000000', undefined, 404, { error_code: 'RESOURCE_DOES_NOT_EXIST' }],
      ['POST', `/logged-models/m-${'0'.repeat(32)}/params`, { params: [] }, 404, { error_code: 'RESOURCE_DOES_NOT_EXIST' }],
    ];
    for (const [method, path, body, status, expected] of cases) {
      const response = await call(method, path, body);
      expect(response.status, `${method} ${path} ${JSON.stringify(body)}: ${JSON.stringify(response.json)}`).toBe(status);
      expect(response.json).toMatchObject(expected);
    }
    const numeric = await call('PATCH', `/logged-models/${id}`, { status: 3 });
    expect(numeric.json.model.info.status).toBe('LOGGED_MODEL_UPLOAD_FAILED');
    expect((await call('POST', '/logged-models/search', { experiment_ids: [String(MINE)], max_results: 1000 })).json.models).toHaveLength(before);
  });

  it('refuses bodies that are not JSON', async () => {
    const text = await t.request(`${API}/logged-models`, { method: 'POST', headers: { ...admin(), 'Content-Type': 'text/plain' }, body: 'name=m' });
    expect(text.status).toBe(415);
    const broken = await t.request(`${API}/logged-models`, { method: 'POST', headers: { ...admin(), 'Content-Type': 'application/json' }, body: '{"experiment_id": ' });
    expect(broken.status).toBe(400);
  });
});

describe('search', () => {
  const ids: Record<string, string> = {};
  const search = (body: Json, headers = admin()) => call('POST', '/logged-models/search', { experiment_ids: [String(SHARED)], ...body }, headers);
  const names = (json: Json) => ((json.models ?? []) as Json[]).map((model) => model.info.name);

  beforeAll(async () => {
    const plan = [
      { name: 'alpha', acc: [0.7, 0.9], lr: '0.01', team: 'vision', ready: true },
      { name: 'beta', acc: [0.8], lr: '0.1', team: 'vision', ready: false },
      { name: 'gamma', acc: [], lr: '0.01', team: 'Speech', ready: true },
      { name: 'Delta', acc: [0.95, 0.6], lr: '1', team: 'speech', ready: false },
    ];
    for (const model of plan) {
      t.clock.advance(1000);
      const info = (
        await create({ experiment_id: String(SHARED), name: model.name, params: [{ key: 'lr', value: model.lr }], tags: [{ key: 'team', value: model.team }] })
      ).info;
      ids[model.name] = info.model_id;
      model.acc.forEach((value, step) => logMetric(info.model_id, 'acc', value, 100 + step, step, { name: step === 0 ? 'train' : 'eval', digest: 'd1' }));
      if (model.ready) await call('PATCH', `/logged-models/${info.model_id}`, { status: 'LOGGED_MODEL_READY' });
    }
  });

  it('returns the newest first by default, in the shape of GetLoggedModel', async () => {
    const { status, json } = await search({});
    expect(status).toBe(200);
    expect(names(json)).toEqual(['Delta', 'gamma', 'beta', 'alpha', 'shared-model']);
    expect(json.models[3]).toEqual((await call('GET', `/logged-models/${ids.alpha}`)).json.model);
    expect(json.next_page_token).toBeUndefined();
  });

  const filters: Array<[string, string[]]> = [
    ["name = 'alpha'", ['alpha']],
    ["attributes.name LIKE '%a'", ['Delta', 'gamma', 'beta', 'alpha']],
    ["name LIKE 'd%'", []],
    ["name ILIKE 'd%'", ['Delta']],
    ["name LIKE '_eta'", ['beta']],
    ["name != 'alpha' AND params.lr = '0.01'", ['gamma']],
    ['metrics.acc > 0.85', ['Delta', 'alpha']],
    ['metrics.acc <= 0.7', ['Delta', 'alpha']],
    ["tags.team = 'vision'", ['beta', 'alpha']],
    ["tags.team LIKE 's%'", ['Delta']],
    ["status = 'READY'", ['gamma', 'alpha']],
    ["status = 'LOGGED_MODEL_PENDING' AND metrics.acc >= 0.8", ['Delta', 'beta']],
  ];
  for (const [filter, expected] of filters) {
    it(`filters ${filter}`, async () => {
      const { status, json } = await search({ filter });
      expect(status, JSON.stringify(json)).toBe(200);
      expect(names(json)).toEqual(expected);
    });
  }

  it('filters by time and model id', async () => {
    const alpha = (await call('GET', `/logged-models/${ids.alpha}`)).json.model.info;
    expect(names((await search({ filter: `creation_timestamp > ${alpha.creation_timestamp_ms}` })).json)).toEqual(['Delta', 'gamma', 'beta']);
    expect(names((await search({ filter: `model_id = '${ids.beta}'` })).json)).toEqual(['beta']);
  });

  it('restricts metric filters, or the models, to datasets', async () => {
    expect(names((await search({ filter: 'metrics.acc > 0.85', datasets: [{ dataset_name: 'train' }] })).json)).toEqual(['Delta']);
    expect(names((await search({ datasets: [{ dataset_name: 'eval', dataset_digest: 'd1' }] })).json)).toEqual(['Delta', 'alpha']);
    expect(names((await search({ datasets: [{ dataset_name: 'eval', dataset_digest: 'other' }] })).json)).toEqual([]);
  });

  it('orders by attributes and by the latest metric, missing values last', async () => {
    expect(names((await search({ order_by: [{ field_name: 'name', ascending: true }] })).json)).toEqual(['Delta', 'alpha', 'beta', 'gamma', 'shared-model']);
    expect(names((await search({ order_by: [{ field_name: 'metrics.acc', ascending: false }] })).json)).toEqual(['alpha', 'beta', 'Delta', 'gamma', 'shared-model']);
    expect(names((await search({ order_by: [{ field_name: 'metrics.acc' }] })).json)).toEqual(['Delta', 'beta', 'alpha', 'gamma', 'shared-model']);
    expect(names((await search({ order_by: [{ field_name: 'metrics.acc', ascending: false, dataset_name: 'train' }] })).json)).toEqual(['Delta', 'beta', 'alpha', 'gamma', 'shared-model']);
    expect(names((await search({ order_by: [{ field_name: 'creation_timestamp', ascending: true }] })).json)).toEqual(['shared-model', 'alpha', 'beta', 'gamma', 'Delta']);
  });

  it('pages with tokens', async () => {
    const first = await search({ max_results: 2 });
    expect(names(first.json)).toEqual(['Delta', 'gamma']);
    const second = await search({ max_results: 2, page_token: first.json.next_page_token });
    expect(names(second.json)).toEqual(['beta', 'alpha']);
    const third = await search({ max_results: 2, page_token: second.json.next_page_token });
    expect(third.json).toEqual({ models: [expect.objectContaining({ info: expect.objectContaining({ name: 'shared-model' }) })] });
  });

  it('searches only the experiments the caller may see', async () => {
    const { json } = await call('POST', '/logged-models/search', { experiment_ids: [String(SHARED), String(SECRET), '999'] }, member());
    expect(names(json)).toEqual(['Delta', 'gamma', 'beta', 'alpha', 'shared-model']);
    expect(await call('POST', '/logged-models/search', { experiment_ids: [String(SECRET)] }, member())).toEqual({ status: 200, json: {} });
  });

  const refused: Array<[string, Json, string]> = [
    ['no experiment_ids', { experiment_ids: undefined }, "'experiment_ids'"],
    ['an unknown entity', { filter: "dataset.name = 'x'" }, "Invalid entity type: 'dataset'"],
    ['an unknown prefix', { filter: "foo.x = 'x'" }, "Invalid entity type: 'foo'"],
    ['an unknown attribute', { filter: "colour = 'red'" }, "Invalid attribute key 'colour'"],
    ['a text value for a metric', { filter: "metrics.acc > 'high'" }, 'Expected a numeric value'],
    ['LIKE on a metric', { filter: "metrics.acc LIKE '0.%'" }, "Invalid comparator 'LIKE'"],
    ['a number for a param', { filter: 'params.lr = 0.01' }, 'must be a quoted string'],
    ['broken syntax', { filter: "name = 'x' OR name = 'y'" }, 'OR is not supported'],
    ['an order on params', { order_by: [{ field_name: 'params.lr' }] }, 'Only metrics are supported'],
    ['an unknown order field', { order_by: [{ field_name: 'colour' }] }, 'Invalid order by field name: colour'],
    ['an order given as text', { order_by: ['name DESC'] }, "'order_by[0]'"],
    ['a non-boolean ascending', { order_by: [{ field_name: 'name', ascending: 'yes' }] }, 'order_by[0].ascending'],
    ['a dataset without a name', { datasets: [{ dataset_digest: 'd1' }] }, 'dataset_name'],
    ['max_results of 0', { max_results: 0 }, 'max_results'],
    ['max_results too large', { max_results: 50_001 }, 'max_results'],
    ['a broken page token', { page_token: 'not a token!' }, 'Invalid page token'],
    ['experiment_ids that are not strings', { experiment_ids: [21] }, 'experiment_ids'],
  ];
  for (const [what, body, message] of refused) {
    it(`refuses ${what}`, async () => {
      const { status, json } = await search(body);
      expect(status, JSON.stringify(json)).toBe(400);
      expect(json).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringContaining(message) });
    });
  }
});

describe('artifact listings', () => {
  let id: string;
  beforeAll(async () => {
    id = (await create({ experiment_id: String(MINE), name: 'with-files' })).info.model_id;
    const upload = (path: string, body: string) =>
      t.request(`/api/2.0/mlflow-artifacts/artifacts/${path}`, { method: 'PUT', headers: admin(), body });
    await upload(`${MINE}/models/${id}/artifacts/MLmodel`, 'flavors: {}\n');
    await upload(`${MINE}/models/${id}/artifacts/data/weights.bin`, '0123456789');
    await upload(`${MINE}/${RUN}/artifacts/hello.txt`, 'hello artifact\n');
    await upload(`${MINE}/${RUN}/artifacts/sub/dir/hello.txt`, 'hello artifact\n');
  });

  it('lists a logged model’s artifacts relative to its root', async () => {
    const root = `mlflow-artifacts:/${MINE}/models/${id}/artifacts`;
    expect((await call('GET', `/logged-models/${id}/artifacts/directories`)).json).toEqual({
      root_uri: root,
      files: [
        { path: 'MLmodel', is_dir: false, file_size: 12 },
        { path: 'data', is_dir: true },
      ],
    });
    expect((await call('GET', `/logged-models/${id}/artifacts/directories?artifact_directory_path=data`)).json).toEqual({
      root_uri: root,
      files: [{ path: 'data/weights.bin', is_dir: false, file_size: 10 }],
    });
    expect((await call('GET', `/logged-models/${id}/artifacts/directories?artifact_directory_path=nope`)).json).toEqual({ root_uri: root });
  });

  it('downloads one of its files', async () => {
    const response = await t.request(`${API}/logged-models/${id}/artifacts/files?artifact_file_path=data/weights.bin`, { headers: admin() });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('0123456789');
    expect((await call('GET', `/logged-models/${id}/artifacts/files`)).json).toMatchObject({ error_code: 'BAD_REQUEST' });
    expect((await call('GET', `/logged-models/${id}/artifacts/files?artifact_file_path=../../x`)).status).toBe(400);
  });

  it('lists a run’s artifacts as the 2.x ListArtifacts does', async () => {
    const root = `mlflow-artifacts:/${MINE}/${RUN}/artifacts`;
    expect((await call('GET', `/artifacts/list?run_uuid=${RUN}&run_id=${RUN}`)).json).toEqual({
      root_uri: root,
      files: [
        { path: 'hello.txt', is_dir: false, file_size: 15 },
        { path: 'sub', is_dir: true },
      ],
    });
    expect((await call('GET', `/artifacts/list?run_id=${RUN}&path=sub/dir`)).json).toEqual({
      root_uri: root,
      files: [{ path: 'sub/dir/hello.txt', is_dir: false, file_size: 15 }],
    });
  });

  it('refuses bad listing requests', async () => {
    const cases: Array<[string, number, string]> = [
      [`/artifacts/list?path=x`, 400, 'INVALID_PARAMETER_VALUE'],
      [`/artifacts/list?run_id=${'d'.repeat(32)}`, 404, 'RESOURCE_DOES_NOT_EXIST'],
      [`/artifacts/list?run_id=../../etc`, 404, 'RESOURCE_DOES_NOT_EXIST'],
      [`/artifacts/list?run_id=${RUN}&path=../../${SECRET}`, 400, 'INVALID_PARAMETER_VALUE'],
      [`/artifacts/list?run_id=${RUN}&path=%2Fetc`, 400, 'INVALID_PARAMETER_VALUE'],
      [`/logged-models/${id}/artifacts/directories?artifact_directory_path=..`, 400, 'INVALID_PARAMETER_VALUE'],
      [`/logged-models/m-${'0'.repeat(32)}/artifacts/directories`, 404, 'RESOURCE_DOES_NOT_EXIST'],
    ];
    for (const [path, status, code] of cases) {
      const response = await call('GET', path);
      expect(response.status, `${path}: ${JSON.stringify(response.json)}`).toBe(status);
      expect(response.json.error_code).toBe(code);
    }
  });
});
