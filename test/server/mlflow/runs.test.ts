import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, createTestApp, MEMBER, type TestApp } from '../../helpers/test-app.ts';
import { addUser, expectError, mlflowAs, type MlflowClient } from './tracking-client.ts';

let t: TestApp;
let member: MlflowClient;
let viewer: MlflowClient;
let experimentId: string;

beforeAll(async () => {
  t = await createTestApp();
  member = mlflowAs(t, MEMBER);
  viewer = mlflowAs(t, await addUser(t, 'vic', 'viewer'));
  experimentId = await member.createExperiment('runs');
});

const getRun = async (runId: string, client = member) => (await client.ok('GET', '/runs/get', { run_id: runId })).run;
const tagsOf = async (runId: string) => (await getRun(runId)).data.tags as Array<{ key: string; value: string }>;

describe('runs/create', () => {
  it('answers MLflow RunInfo and the tags, with mlflow.runName set from run_name', async () => {
    const { run } = await member.ok('POST', '/runs/create', {
      experiment_id: experimentId,
      user_id: 'ada',
      run_name: 'first',
      start_time: 1_700_000_000_123,
      tags: [{ key: 'mlflow.user', value: 'ada' }, { key: 'mlflow.source.type', value: 'LOCAL' }],
    });
    const id = run.info.run_id;
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(run).toEqual({
      info: {
        run_uuid: id,
        run_id: id,
        experiment_id: experimentId,
        run_name: 'first',
        user_id: 'ada',
        status: 'RUNNING',
        start_time: 1_700_000_000_123,
        artifact_uri: `mlflow-artifacts:/${experimentId}/${id}/artifacts`,
        lifecycle_stage: 'active',
      },
      data: {
        tags: [
          { key: 'mlflow.user', value: 'ada' },
          { key: 'mlflow.source.type', value: 'LOCAL' },
          { key: 'mlflow.runName', value: 'first' },
        ],
      },
      inputs: {},
    });
    expect(await getRun(id)).toEqual({ ...run, outputs: {} });
  });

  it('takes the name from an mlflow.runName tag, and the user and start time from the caller and the clock', async () => {
    const { run } = await member.ok('POST', '/runs/create', { experiment_id: experimentId, tags: [{ key: 'mlflow.runName', value: 'tagged' }] });
    expect(run.info).toMatchObject({ run_name: 'tagged', user_id: 'mia', start_time: t.clock.now });
    expect(run.data.tags).toEqual([{ key: 'mlflow.runName', value: 'tagged' }]);
  });

  it('names an unnamed run like MLflow does', async () => {
    const { run } = await member.ok('POST', '/runs/create', { experiment_id: experimentId });
    expect(run.info.run_name).toMatch(/^[a-z]+-[a-z]+-\d{1,3}$/);
    expect(run.data.tags).toEqual([{ key: 'mlflow.runName', value: run.info.run_name }]);
  });

  it('goes into the Default experiment when none is named', async () => {
    const { run } = await member.ok('POST', '/runs/create', {});
    expect(run.info.experiment_id).toBe('0');
    expect(run.info.artifact_uri).toBe(`mlflow-artifacts:/0/${run.info.run_id}/artifacts`);
  });

  it('refuses a run_name that contradicts the mlflow.runName tag', async () => {
    expectError(
      await member.post('/runs/create', { experiment_id: experimentId, run_name: 'a', tags: [{ key: 'mlflow.runName', value: 'b' }] }),
      400,
      'INVALID_PARAMETER_VALUE',
      "Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='a', mlflow.runName='b').",
    );
  });

  const bad: Array<[string, Record<string, unknown>, number, string]> = [
    ['an unknown experiment', { experiment_id: '999' }, 404, 'No Experiment with id=999 exists'],
    ['a malformed experiment id', { experiment_id: 'x1' }, 400, 'Invalid experiment ID'],
    ['a start_time that is not an integer', { experiment_id: '0', start_time: 'soon' }, 400, "'start_time'"],
    ['a tag with a bad key', { experiment_id: '0', tags: [{ key: '../x', value: 'v' }] }, 400, "'tags[0].key'"],
    ['a tag value of 8001 characters', { experiment_id: '0', tags: [{ key: 'k', value: 'v'.repeat(8001) }] }, 400, "'Tag value' exceeds the maximum length of 8000"],
    ['a run_name that is not text', { experiment_id: '0', run_name: 7 }, 400, "'run_name'"],
  ];
  for (const [name, body, status, message] of bad) {
    it(`refuses ${name}`, async () => {
      const before = t.app.db.$client.prepare('SELECT count(*) AS n FROM runs').get();
      expectError(await member.post('/runs/create', body), status, status === 404 ? 'RESOURCE_DOES_NOT_EXIST' : 'INVALID_PARAMETER_VALUE', message);
      expect(t.app.db.$client.prepare('SELECT count(*) AS n FROM runs').get()).toEqual(before);
    });
  }
});

describe('runs/get', () => {
  it('accepts run_uuid, as older clients send it', async () => {
    const id = await member.createRun(experimentId);
    expect((await member.ok('GET', '/runs/get', { run_uuid: id })).run.info.run_id).toBe(id);
  });

  it('answers MLflow 2 clients without the outputs field MLflow 2 does not have', async () => {
    const id = await member.createRun(experimentId);
    const old = mlflowAs(t, MEMBER, { 'User-Agent': 'mlflow-python-client/2.22.1' });
    expect((await old.ok('GET', '/runs/get', { run_id: id })).run).not.toHaveProperty('outputs');
    const current = mlflowAs(t, MEMBER, { 'User-Agent': 'mlflow-python-client/3.1.0rc0' });
    expect((await current.ok('GET', '/runs/get', { run_id: id })).run.outputs).toEqual({});
  });

  it('answers unknown and missing ids', async () => {
    expectError(await member.get('/runs/get', { run_id: '0'.repeat(32) }), 404, 'RESOURCE_DOES_NOT_EXIST', `Run with id=${'0'.repeat(32)} not found`);
    expectError(await member.get('/runs/get'), 400, 'INVALID_PARAMETER_VALUE', "Missing value for required parameter 'run_id'");
  });
});

describe('runs/update, delete, restore', () => {
  it('sets status, end time and name, and the name tag follows', async () => {
    const id = await member.createRun(experimentId, { run_name: 'before' });
    const { run_info } = await member.ok('POST', '/runs/update', { run_id: id, status: 'FINISHED', end_time: 1_700_000_999_000, run_name: 'after' });
    expect(run_info).toMatchObject({ run_id: id, status: 'FINISHED', end_time: 1_700_000_999_000, run_name: 'after' });
    expect(await tagsOf(id)).toEqual([{ key: 'mlflow.runName', value: 'after' }]);
    expect((await member.ok('POST', '/runs/update', { run_uuid: id, status: 4 })).run_info.status).toBe('FAILED');
  });

  it('refuses an unknown status and leaves the run as it was', async () => {
    const id = await member.createRun(experimentId);
    expectError(await member.post('/runs/update', { run_id: id, status: 'DONE' }), 400, 'INVALID_PARAMETER_VALUE', "'status'");
    expectError(await member.post('/runs/update', { run_id: id, end_time: 1.5 }), 400, 'INVALID_PARAMETER_VALUE', "'end_time'");
    expect((await getRun(id)).info.status).toBe('RUNNING');
  });

  it('deletes and restores; a deleted run takes no writes', async () => {
    const id = await member.createRun(experimentId);
    expect(await member.ok('POST', '/runs/delete', { run_id: id })).toEqual({});
    expect((await getRun(id)).info.lifecycle_stage).toBe('deleted');
    expect(t.app.db.$client.prepare('SELECT deleted_time AS at FROM runs WHERE run_uuid = ?').get(id)).toEqual({ at: t.clock.now });
    const inactive = `The run ${id} must be in the 'active' state. Current state is deleted.`;
    for (const [path, body] of [
      ['/runs/update', { run_id: id, status: 'FINISHED' }],
      ['/runs/log-metric', { run_id: id, key: 'm', value: 1, timestamp: 1 }],
      ['/runs/log-parameter', { run_id: id, key: 'p', value: 'v' }],
      ['/runs/log-batch', { run_id: id, metrics: [{ key: 'm', value: 1, timestamp: 1 }] }],
      ['/runs/set-tag', { run_id: id, key: 't', value: 'v' }],
      ['/runs/delete-tag', { run_id: id, key: 'mlflow.runName' }],
      ['/runs/log-inputs', { run_id: id, datasets: [] }],
      ['/runs/log-model', { run_id: id, model_json: '{}' }],
      ['/runs/outputs', { run_id: id, models: [{ model_id: 'm-1' }] }],
    ] as const) {
      expectError(await member.post(path, body), 400, 'INVALID_PARAMETER_VALUE', inactive);
    }
    expect((await getRun(id)).data).toEqual({ tags: [{ key: 'mlflow.runName', value: expect.any(String) }] });
    await member.ok('POST', '/runs/restore', { run_id: id });
    expect((await getRun(id)).info.lifecycle_stage).toBe('active');
    await member.ok('POST', '/runs/log-parameter', { run_id: id, key: 'p', value: 'v' });
  });

  it('still takes writes once FINISHED: only the lifecycle stage gates writes in MLflow', async () => {
    const id = await member.createRun(experimentId);
    await member.ok('POST', '/runs/update', { run_id: id, status: 'FINISHED', end_time: 1 });
    await member.ok('POST', '/runs/log-metric', { run_id: id, key: 'late', value: 1, timestamp: 2 });
    await member.ok('POST', '/runs/set-tag', { run_id: id, key: 'note', value: 'after the end' });
    expect((await getRun(id)).data.metrics).toEqual([{ key: 'late', value: 1, timestamp: 2, step: 0 }]);
  });

  it('answers 404 for unknown runs on every run endpoint', async () => {
    const unknown = 'f'.repeat(32);
    for (const [path, body] of [
      ['/runs/update', { run_id: unknown }],
      ['/runs/delete', { run_id: unknown }],
      ['/runs/restore', { run_id: unknown }],
      ['/runs/log-metric', { run_id: unknown, key: 'm', value: 1, timestamp: 1 }],
      ['/runs/log-parameter', { run_id: unknown, key: 'p', value: 'v' }],
      ['/runs/log-batch', { run_id: unknown }],
      ['/runs/set-tag', { run_id: unknown, key: 't', value: 'v' }],
      ['/runs/delete-tag', { run_id: unknown, key: 't' }],
      ['/runs/log-inputs', { run_id: unknown }],
      ['/runs/log-model', { run_id: unknown, model_json: '{}' }],
      ['/runs/outputs', { run_id: unknown, models: [] }],
    ] as const) {
      expectError(await member.post(path, body), 404, 'RESOURCE_DOES_NOT_EXIST', `Run with id=${unknown} not found`);
    }
    expectError(await member.get('/metrics/get-history', { run_id: unknown, metric_key: 'm' }), 404, 'RESOURCE_DOES_NOT_EXIST');
  });
});

describe('tags and params', () => {
  it('sets, overwrites and deletes tags; setting mlflow.runName renames the run', async () => {
    const id = await member.createRun(experimentId, { run_name: 'tags' });
    await member.ok('POST', '/runs/set-tag', { run_id: id, key: 'stage', value: 'one' });
    await member.ok('POST', '/runs/set-tag', { run_uuid: id, key: 'stage', value: 'two' });
    await member.ok('POST', '/runs/set-tag', { run_id: id, key: 'empty' });
    await member.ok('POST', '/runs/set-tag', { run_id: id, key: 'mlflow.runName', value: 'renamed' });
    expect(await tagsOf(id)).toEqual([
      { key: 'mlflow.runName', value: 'renamed' },
      { key: 'stage', value: 'two' },
      { key: 'empty', value: '' },
    ]);
    expect((await getRun(id)).info.run_name).toBe('renamed');
    await member.ok('POST', '/runs/delete-tag', { run_id: id, key: 'stage' });
    expect((await tagsOf(id)).map(({ key }) => key)).toEqual(['mlflow.runName', 'empty']);
    expectError(await member.post('/runs/delete-tag', { run_id: id, key: 'stage' }), 404, 'RESOURCE_DOES_NOT_EXIST', `No tag with name: stage in run with id ${id}`);
  });

  it('logs a param once: the same value again is fine, another one is refused with MLflow message', async () => {
    const id = await member.createRun(experimentId);
    await member.ok('POST', '/runs/log-parameter', { run_id: id, run_uuid: id, key: 'lr', value: '0.01' });
    await member.ok('POST', '/runs/log-parameter', { run_id: id, key: 'lr', value: '0.01' });
    expectError(
      await member.post('/runs/log-parameter', { run_id: id, key: 'lr', value: '0.02' }),
      400,
      'INVALID_PARAMETER_VALUE',
      `Changing param values is not allowed. Param with key='lr' was already logged with value='0.01' for run ID='${id}'. Attempted logging new value '0.02'.`,
    );
    expect((await getRun(id)).data.params).toEqual([{ key: 'lr', value: '0.01' }]);
  });

  const badKeys: Array<[string, Record<string, unknown>, string]> = [
    ['no key', { value: 'v' }, "Missing value for required parameter 'key'"],
    ['an empty key', { key: '', value: 'v' }, "Missing value for required parameter 'key'"],
    ['a key of 251 characters', { key: 'k'.repeat(251), value: 'v' }, 'exceeds the maximum length of 250'],
    ['a key with a forbidden character', { key: 'a*b', value: 'v' }, 'Names may only contain'],
    ['a key that resolves elsewhere as a path', { key: 'a/../b', value: 'v' }, "would resolve to 'b'"],
    ['a key starting with a slash', { key: '/abs', value: 'v' }, 'Names may be treated as files'],
    ['a key of just a dot', { key: '.', value: 'v' }, 'Names may be treated as files'],
    ['a number for the key', { key: 3, value: 'v' }, "Invalid value 3 for parameter 'key'"],
    ['a number for the value', { key: 'k', value: 3 }, "Invalid value 3 for parameter 'value'"],
  ];
  for (const [name, fields, message] of badKeys) {
    it(`refuses a param or tag with ${name}`, async () => {
      const id = await member.createRun(experimentId);
      expectError(await member.post('/runs/log-parameter', { run_id: id, ...fields }), 400, 'INVALID_PARAMETER_VALUE', message);
      expectError(await member.post('/runs/set-tag', { run_id: id, ...fields }), 400, 'INVALID_PARAMETER_VALUE', message);
      expect((await getRun(id)).data.params).toBeUndefined();
      expect(await tagsOf(id)).toHaveLength(1);
    });
  }

  it('accepts names MLflow accepts: dots, dashes, spaces, colons, slashes, unicode', async () => {
    const id = await member.createRun(experimentId);
    for (const key of ['a.b', 'a-b c', 'train/loss', 'x:y', 'größe', '.hidden', 'b.']) {
      await member.ok('POST', '/runs/log-parameter', { run_id: id, key, value: '1' });
    }
    expect((await getRun(id)).data.params).toHaveLength(7);
  });

  it('refuses a param value over 6000 and a tag value over 8000 characters', async () => {
    const id = await member.createRun(experimentId);
    expectError(await member.post('/runs/log-parameter', { run_id: id, key: 'k', value: 'v'.repeat(6001) }), 400, 'INVALID_PARAMETER_VALUE', '6000');
    expectError(await member.post('/runs/set-tag', { run_id: id, key: 'k', value: 'v'.repeat(8001) }), 400, 'INVALID_PARAMETER_VALUE', '8000');
    await member.ok('POST', '/runs/log-parameter', { run_id: id, key: 'k', value: 'v'.repeat(6000) });
  });
});

describe('log-inputs, log-model and outputs', () => {
  it('keeps datasets with their tags and answers them as inputs.dataset_inputs; the same dataset twice is kept once', async () => {
    const id = await member.createRun(experimentId);
    const datasets = [
      {
        tags: [{ key: 'mlflow.data.context', value: 'train' }],
        dataset: { name: 'mnist', digest: 'abc123', source_type: 'local', source: '{"uri": "/data/mnist"}', schema: '{"mlflow_colspec": []}', profile: '{"num_rows": 10}' },
      },
      { dataset: { name: 'eval', digest: 'def456', source_type: 'http', source: '{"url": "https://x"}' } },
    ];
    await member.ok('POST', '/runs/log-inputs', { run_id: id, datasets });
    await member.ok('POST', '/runs/log-inputs', { run_id: id, datasets: [datasets[0]], models: [{ model_id: 'm-1' }] });
    expect((await getRun(id)).inputs).toEqual({ dataset_inputs: datasets });
  });

  it('refuses a dataset without its required fields or with a digest over 36 characters', async () => {
    const id = await member.createRun(experimentId);
    const dataset = { name: 'd', digest: 'x', source_type: 'local', source: 's' };
    expectError(await member.post('/runs/log-inputs', { run_id: id, datasets: [{}] }), 400, 'INVALID_PARAMETER_VALUE', "'datasets[0].dataset'");
    expectError(await member.post('/runs/log-inputs', { run_id: id, datasets: [{ dataset: { ...dataset, name: undefined } }] }), 400, 'INVALID_PARAMETER_VALUE', "'datasets[0].dataset.name'");
    expectError(await member.post('/runs/log-inputs', { run_id: id, datasets: [{ dataset: { ...dataset, digest: 'd'.repeat(37) } }] }), 400, 'INVALID_PARAMETER_VALUE', '36');
    expectError(await member.post('/runs/log-inputs', { run_id: id, datasets: [{ dataset, tags: [{ key: 'k' }] }] }), 400, 'INVALID_PARAMETER_VALUE', "'datasets[0].tags[0].value'");
    expect((await getRun(id)).inputs).toEqual({});
  });

  it('appends each logged model to the mlflow.log-model.history tag, text kept as sent', async () => {
    const id = await member.createRun(experimentId);
    const model = (path: string) => JSON.stringify({ run_id: id, artifact_path: path, utc_time_created: '2026-11-22 03:45:54.065694', flavors: { sklearn: {} } });
    await member.ok('POST', '/runs/log-model', { run_id: id, model_json: model('model') });
    expect((await tagsOf(id)).find(({ key }) => key === 'mlflow.log-model.history')?.value).toBe(`[${model('model')}]`);
    await member.ok('POST', '/runs/log-model', { run_id: id, model_json: model('other') });
    const history = (await tagsOf(id)).find(({ key }) => key === 'mlflow.log-model.history')!.value;
    expect(history).toBe(`[${model('model')}, ${model('other')}]`);
    expect(JSON.parse(history).map((entry: { artifact_path: string }) => entry.artifact_path)).toEqual(['model', 'other']);
  });

  it('refuses a model that is not JSON or misses mandatory fields', async () => {
    const id = await member.createRun(experimentId);
    expectError(await member.post('/runs/log-model', { run_id: id, model_json: 'not json' }), 400, 'INVALID_PARAMETER_VALUE', 'is not a valid JSON');
    expectError(
      await member.post('/runs/log-model', { run_id: id, model_json: JSON.stringify({ run_id: id }) }),
      400,
      'INVALID_PARAMETER_VALUE',
      "Model json is missing mandatory fields: {'artifact_path', 'flavors', 'utc_time_created'}",
    );
    expectError(await member.post('/runs/log-model', { run_id: id }), 400, 'INVALID_PARAMETER_VALUE', "'model_json'");
    expect(await tagsOf(id)).toHaveLength(1);
  });

  it('records MLflow 3 model outputs and answers them in runs/get', async () => {
    const id = await member.createRun(experimentId);
    await member.ok('POST', '/runs/outputs', { run_id: id, models: [{ model_id: 'm-aaa', step: 3 }, { model_id: 'm-bbb' }] });
    await member.ok('POST', '/runs/outputs', { run_id: id, models: [{ model_id: 'm-aaa', step: 4 }] });
    expect((await getRun(id)).outputs).toEqual({ model_outputs: [{ model_id: 'm-aaa', step: 4 }, { model_id: 'm-bbb', step: 0 }] });
    expectError(await member.post('/runs/outputs', { run_id: id }), 400, 'INVALID_PARAMETER_VALUE', "'models'");
    expectError(await member.post('/runs/outputs', { run_id: id, models: [{ step: 1 }] }), 400, 'INVALID_PARAMETER_VALUE', "'models[0].model_id'");
  });
});

describe('roles', () => {
  it('lets a viewer read runs and refuses every write with 403, changing nothing', async () => {
    const id = await member.createRun(experimentId, { run_name: 'watched' });
    await member.ok('POST', '/runs/log-metric', { run_id: id, key: 'm', value: 1, timestamp: 1, step: 0 });
    const before = await getRun(id);
    expect(await getRun(id, viewer)).toEqual(before);
    expect((await viewer.ok('GET', '/metrics/get-history', { run_id: id, metric_key: 'm' })).metrics).toHaveLength(1);
    expect((await viewer.ok('POST', '/runs/search', { experiment_ids: [experimentId], filter: "run_name = 'watched'" })).runs).toHaveLength(1);
    for (const [path, body] of [
      ['/runs/create', { experiment_id: experimentId }],
      ['/runs/update', { run_id: id, status: 'KILLED' }],
      ['/runs/delete', { run_id: id }],
      ['/runs/restore', { run_id: id }],
      ['/runs/log-metric', { run_id: id, key: 'm', value: 2, timestamp: 2, step: 1 }],
      ['/runs/log-parameter', { run_id: id, key: 'p', value: 'v' }],
      ['/runs/log-batch', { run_id: id, tags: [{ key: 't', value: 'v' }] }],
      ['/runs/set-tag', { run_id: id, key: 't', value: 'v' }],
      ['/runs/delete-tag', { run_id: id, key: 'mlflow.runName' }],
      ['/runs/log-inputs', { run_id: id, datasets: [] }],
      ['/runs/log-model', { run_id: id, model_json: '{}' }],
      ['/runs/outputs', { run_id: id, models: [{ model_id: 'm-1' }] }],
    ] as const) {
      expectError(await viewer.post(path, body), 403, 'PERMISSION_DENIED');
    }
    expect(await getRun(id)).toEqual(before);
  });

  it('hides runs of other projects as missing', async () => {
    t.app.projects.create({ name: 'secret' }, { actor: 'test' });
    const admin = mlflowAs(t, ADMIN);
    const hidden = await admin.createExperiment('secret-runs', [{ key: 'trainyard.project', value: 'secret' }]);
    const id = await admin.createRun(hidden);
    expectError(await member.get('/runs/get', { run_id: id }), 404, 'RESOURCE_DOES_NOT_EXIST', `Run with id=${id} not found`);
    expectError(await member.post('/runs/log-metric', { run_id: id, key: 'm', value: 1, timestamp: 1 }), 404, 'RESOURCE_DOES_NOT_EXIST');
    expectError(await member.post('/runs/create', { experiment_id: hidden }), 404, 'RESOURCE_DOES_NOT_EXIST');
  });
});
