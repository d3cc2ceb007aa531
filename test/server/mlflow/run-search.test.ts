import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, createTestApp, MEMBER, type TestApp } from '../../helpers/test-app.ts';
import { expectError, mlflowAs, type MlflowClient } from './tracking-client.ts';

let t: TestApp;
let member: MlflowClient;
let experimentId: string;
let otherExperimentId: string;
let hiddenExperimentId: string;
const ids: Record<string, string> = {};

interface RunSpec {
  start: number;
  metrics: Record<string, number | string>;
  params: Record<string, string>;
  tags: Record<string, string>;
  user: string;
  status?: 'FINISHED' | 'FAILED';
  dataset?: { name: string; digest: string; context: string };
}

const RUNS: Record<string, RunSpec> = {
  r1: { start: 1000, metrics: { acc: 0.9, 'my metric': 1 }, params: { opt: 'adam', lr: '0.01' }, tags: { team: 'red' }, user: 'ada', status: 'FINISHED', dataset: { name: 'mnist', digest: 'd-mnist', context: 'train' } },
  r2: { start: 2000, metrics: { acc: 0.7 }, params: { opt: 'sgd', lr: '0.1' }, tags: { team: 'blue' }, user: 'bob', status: 'FINISHED' },
  r3: { start: 3000, metrics: { acc: 0.5 }, params: { opt: 'adam', lr: '0.001' }, tags: { team: 'red' }, user: 'ada', status: 'FAILED', dataset: { name: 'cifar', digest: 'd-cifar', context: 'eval' } },
  r4: { start: 4000, metrics: { acc: 'NaN' }, params: { opt: 'Adam', lr: '0.01' }, tags: { team: 'green' }, user: 'bob' },
  r5: { start: 5000, metrics: { loss: 0.3 }, params: { opt: 'rmsprop' }, tags: {}, user: 'ada' },
};

async function createRun(client: MlflowClient, experiment: string, name: string, spec: RunSpec): Promise<string> {
  const id = await client.createRun(experiment, { run_name: name, start_time: spec.start, user_id: spec.user });
  await client.ok('POST', '/runs/log-batch', {
    run_id: id,
    metrics: Object.entries(spec.metrics).map(([key, value]) => ({ key, value, timestamp: spec.start, step: 0 })),
    params: Object.entries(spec.params).map(([key, value]) => ({ key, value })),
    tags: Object.entries(spec.tags).map(([key, value]) => ({ key, value })),
  });
  if (spec.status) await client.ok('POST', '/runs/update', { run_id: id, status: spec.status, end_time: spec.start + 500 });
  if (spec.dataset) {
    const { name: dataset, digest, context } = spec.dataset;
    await client.ok('POST', '/runs/log-inputs', {
      run_id: id,
      datasets: [{ tags: [{ key: 'mlflow.data.context', value: context }], dataset: { name: dataset, digest, source_type: 'local', source: '{}' } }],
    });
  }
  return id;
}

beforeAll(async () => {
  t = await createTestApp();
  member = mlflowAs(t, MEMBER);
  experimentId = await member.createExperiment('search');
  for (const [name, spec] of Object.entries(RUNS)) ids[name] = await createRun(member, experimentId, name, spec);
  ids.r6 = await createRun(member, experimentId, 'r6', { start: 6000, metrics: { acc: 0.95 }, params: {}, tags: { team: 'red' }, user: 'ada' });
  await member.ok('POST', '/runs/delete', { run_id: ids.r6 });
  otherExperimentId = await member.createExperiment('search-other');
  ids.r7 = await createRun(member, otherExperimentId, 'r7', { start: 7000, metrics: { acc: 0.99 }, params: {}, tags: {}, user: 'ada' });
  t.app.projects.create({ name: 'secret' }, { actor: 'test' });
  const admin = mlflowAs(t, ADMIN);
  hiddenExperimentId = await admin.createExperiment('search-hidden', [{ key: 'trainyard.project', value: 'secret' }]);
  ids.r8 = await createRun(admin, hiddenExperimentId, 'r8', { start: 8000, metrics: { acc: 1 }, params: {}, tags: {}, user: 'admin' });
});

const search = (body: Record<string, unknown>) => member.ok('POST', '/runs/search', { experiment_ids: [experimentId], ...body });
const names = (answer: { runs?: Array<{ info: { run_name: string } }> }) => (answer.runs ?? []).map(({ info }) => info.run_name);

describe('runs/search filters', () => {
  const cases: Array<[string, string[]]> = [
    ['metrics.acc > 0.6', ['r1', 'r2']],
    ['metrics.acc >= 0.7', ['r1', 'r2']],
    ['metrics.acc < 0.7', ['r3']],
    ['metrics.acc <= 0.5', ['r3']],
    ['metrics.acc = 0.9', ['r1']],
    ['metrics.acc != 0.9', ['r2', 'r3']],
    ['metrics.`my metric` = 1', ['r1']],
    ['metric.acc > 0.6 AND param.opt = "adam"', ['r1']],
    ["params.opt = 'adam'", ['r1', 'r3']],
    ["params.opt != 'adam'", ['r2', 'r4', 'r5']],
    ["params.opt LIKE 'ad%'", ['r1', 'r3']],
    ["params.opt ILIKE 'ad%'", ['r1', 'r3', 'r4']],
    ["params.opt LIKE 'a_am'", ['r1', 'r3']],
    ["params.opt LIKE '_dam'", ['r1', 'r3', 'r4']],
    ["params.opt IN ('sgd', 'rmsprop')", ['r2', 'r5']],
    ["params.opt NOT IN ('adam')", ['r2', 'r4', 'r5']],
    ["params.lr = '0.01'", ['r1', 'r4']],
    ["tags.team = 'red'", ['r1', 'r3']],
    ['tags.team IS NULL', ['r5']],
    ['tags.team IS NOT NULL', ['r1', 'r2', 'r3', 'r4']],
    ['tags."mlflow.runName" = \'r2\'', ['r2']],
    ["attributes.status = 'FINISHED'", ['r1', 'r2']],
    ["attributes.status IN ('FAILED', 'RUNNING')", ['r3', 'r4', 'r5']],
    ["status != 'RUNNING'", ['r1', 'r2', 'r3']],
    ["attributes.run_name LIKE 'r%'", ['r1', 'r2', 'r3', 'r4', 'r5']],
    ["run_name = 'r3'", ['r3']],
    ['attributes.start_time >= 3000', ['r3', 'r4', 'r5']],
    ['attributes.created < 2500', ['r1', 'r2']],
    ['attributes.end_time IS NULL', ['r4', 'r5']],
    ["attributes.user_id = 'ada'", ['r1', 'r3', 'r5']],
    ["datasets.name = 'mnist'", ['r1']],
    ["datasets.digest IN ('d-cifar')", ['r3']],
    ["dataset.context = 'eval'", ['r3']],
    ["metrics.acc > 0.4 and params.opt = 'adam' and tags.team = 'red'", ['r1', 'r3']],
    ["metrics.loss < 1 and params.opt = 'rmsprop'", ['r5']],
    ['', ['r1', 'r2', 'r3', 'r4', 'r5']],
  ];
  for (const [filter, expected] of cases) {
    it(`${filter || '(no filter)'} finds ${expected.join(', ')}`, async () => {
      expect(names(await search({ filter, order_by: ['attributes.run_name ASC'] }))).toEqual(expected);
    });
  }

  it('filters on run ids', async () => {
    expect(names(await search({ filter: `attributes.run_id IN ('${ids.r2}', '${ids.r4}')`, order_by: ['run_name'] }))).toEqual(['r2', 'r4']);
    expect(names(await search({ filter: `attributes.run_id = '${ids.r3}'` }))).toEqual(['r3']);
  });

  it('answers runs in MLflow shape, with their latest metrics, params and tags but no outputs', async () => {
    const { runs } = await search({ filter: "run_name = 'r1'" });
    expect(runs).toEqual([
      {
        info: {
          run_uuid: ids.r1,
          run_id: ids.r1,
          experiment_id: experimentId,
          run_name: 'r1',
          user_id: 'ada',
          status: 'FINISHED',
          start_time: 1000,
          end_time: 1500,
          artifact_uri: `mlflow-artifacts:/${experimentId}/${ids.r1}/artifacts`,
          lifecycle_stage: 'active',
        },
        data: {
          metrics: [
            { key: 'acc', value: 0.9, timestamp: 1000, step: 0 },
            { key: 'my metric', value: 1, timestamp: 1000, step: 0 },
          ],
          params: [
            { key: 'opt', value: 'adam' },
            { key: 'lr', value: '0.01' },
          ],
          tags: [
            { key: 'mlflow.runName', value: 'r1' },
            { key: 'team', value: 'red' },
          ],
        },
        inputs: {
          dataset_inputs: [
            { tags: [{ key: 'mlflow.data.context', value: 'train' }], dataset: { name: 'mnist', digest: 'd-mnist', source_type: 'local', source: '{}' } },
          ],
        },
      },
    ]);
  });

  it('answers {} when nothing matches', async () => {
    expect(await search({ filter: 'metrics.acc > 5' })).toEqual({});
  });
});

describe('runs/search order_by', () => {
  const cases: Array<[string[], string[]]> = [
    [[], ['r5', 'r4', 'r3', 'r2', 'r1']],
    [['metrics.acc DESC'], ['r1', 'r2', 'r3', 'r4', 'r5']],
    [['metrics.acc ASC'], ['r3', 'r2', 'r1', 'r4', 'r5']],
    [['metrics.acc'], ['r3', 'r2', 'r1', 'r4', 'r5']],
    [['params.lr ASC'], ['r3', 'r4', 'r1', 'r2', 'r5']],
    [['tags.team DESC', 'attributes.start_time ASC'], ['r1', 'r3', 'r4', 'r2', 'r5']],
    [['attributes.run_name DESC'], ['r5', 'r4', 'r3', 'r2', 'r1']],
    [['attributes.status', 'start_time DESC'], ['r3', 'r2', 'r1', 'r5', 'r4']],
    [['metrics.`acc` DESC'], ['r1', 'r2', 'r3', 'r4', 'r5']],
  ];
  for (const [orderBy, expected] of cases) {
    it(`${JSON.stringify(orderBy)} gives ${expected.join(', ')}`, async () => {
      expect(names(await search({ order_by: orderBy }))).toEqual(expected);
    });
  }

  it('orders by the filtered metric as well', async () => {
    expect(names(await search({ filter: 'metrics.acc > 0.4', order_by: ['metrics.acc ASC'] }))).toEqual(['r3', 'r2', 'r1']);
    expect(names(await search({ filter: "params.opt ILIKE 'a%'", order_by: ['params.opt DESC', 'run_name'] }))).toEqual(['r1', 'r3', 'r4']);
  });
});

describe('runs/search paging, view types, experiments and errors', () => {
  it('pages with opaque tokens, the last page without one', async () => {
    const pages: string[][] = [];
    let token: string | undefined;
    do {
      const answer = await search({ order_by: ['metrics.acc DESC'], max_results: 2, ...(token && { page_token: token }) });
      pages.push(names(answer));
      token = answer.next_page_token;
    } while (token);
    expect(pages).toEqual([['r1', 'r2'], ['r3', 'r4'], ['r5']]);
  });

  it('shows deleted runs only when asked', async () => {
    expect(names(await search({ run_view_type: 'DELETED_ONLY' }))).toEqual(['r6']);
    expect(names(await search({ run_view_type: 'ALL', filter: "tags.team = 'red'", order_by: ['run_name'] }))).toEqual(['r1', 'r3', 'r6']);
    expect(names(await search({ run_view_type: 2 }))).toEqual(['r6']);
  });

  it('searches several experiments, and never those of projects the caller is not in', async () => {
    const answer = await member.ok('POST', '/runs/search', {
      experiment_ids: [experimentId, otherExperimentId, hiddenExperimentId],
      filter: 'metrics.acc > 0.8',
      order_by: ['metrics.acc DESC'],
    });
    expect(names(answer)).toEqual(['r7', 'r1']);
    expect(await member.ok('POST', '/runs/search', { experiment_ids: [hiddenExperimentId] })).toEqual({});
    expect(names(await mlflowAs(t, ADMIN).ok('POST', '/runs/search', { experiment_ids: [hiddenExperimentId] }))).toEqual(['r8']);
    expect(await member.ok('POST', '/runs/search', { experiment_ids: ['4040'] })).toEqual({});
    expect(await member.ok('POST', '/runs/search', {})).toEqual({});
  });

  const bad: Array<[string, Record<string, unknown>, string]> = [
    ['a filter with bad syntax', { filter: 'metrics.acc >' }, 'Invalid search expression'],
    ['OR', { filter: "params.opt = 'a' or params.opt = 'b'" }, 'OR is not supported'],
    ['an unquoted param value', { filter: 'params.lr = 0.01' }, 'quoted string'],
    ['a text value for a metric', { filter: "metrics.acc > 'high'" }, 'numeric value'],
    ['LIKE on a metric', { filter: "metrics.acc LIKE '0.%'" }, 'Invalid comparator'],
    ['< on a param', { filter: "params.lr < '1'" }, 'Invalid comparator'],
    ['an unknown attribute', { filter: "attributes.colour = 'red'" }, "Invalid attribute key 'colour'"],
    ['an unknown entity', { filter: "models.name = 'x'" }, "Invalid entity type 'models'"],
    ['an unknown dataset field', { filter: "datasets.size = 'x'" }, "Invalid dataset key 'size'"],
    ['an order on an unknown entity', { order_by: ['models.x'] }, 'Invalid order_by entity'],
    ['an order with a bad direction', { order_by: ['metrics.acc UP'] }, 'expected ASC, DESC'],
    ['order_by that is not a list of text', { order_by: [1] }, "'order_by'"],
    ['max_results over 50000', { max_results: 50001 }, "Invalid value 50001 for parameter 'max_results' supplied."],
    ['max_results 0', { max_results: 0 }, "parameter 'max_results'"],
    ['a page token that is not base64', { page_token: 'a b' }, 'Invalid page token'],
    ['a malformed experiment id', { experiment_ids: ['one'] }, "Invalid experiment ID: 'one'"],
    ['an unknown run view type', { run_view_type: 'SOME' }, "'run_view_type'"],
  ];
  for (const [name, body, message] of bad) {
    it(`refuses ${name}`, async () => {
      expectError(await member.post('/runs/search', { experiment_ids: [experimentId], ...body }), 400, 'INVALID_PARAMETER_VALUE', message);
    });
  }
});
