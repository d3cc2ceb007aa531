import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, MEMBER, type TestApp } from '../../helpers/test-app.ts';
import { expectError, mlflowAs, type MlflowClient } from './tracking-client.ts';

let t: TestApp;
let member: MlflowClient;
let experimentId: string;

beforeAll(async () => {
  t = await createTestApp();
  member = mlflowAs(t, MEMBER);
  experimentId = await member.createExperiment('metrics');
});

const newRun = () => member.createRun(experimentId);
const latest = async (runId: string) => (await member.ok('GET', '/runs/get', { run_id: runId })).run.data.metrics;
const history = async (runId: string, key: string, query: Record<string, string | number> = {}) =>
  member.ok('GET', '/metrics/get-history', { run_id: runId, metric_key: key, ...query });
const stored = (runId: string) => t.app.db.$client.prepare('SELECT key, value, timestamp, step FROM metrics WHERE run_uuid = ? ORDER BY rowid').all(runId);
const point = (key: string, value: unknown, timestamp: number, step = 0) => ({ key, value, timestamp, step });

describe('runs/log-metric', () => {
  it('stores the point and answers {}', async () => {
    const id = await newRun();
    expect(await member.ok('POST', '/runs/log-metric', { run_id: id, run_uuid: id, key: 'loss', value: 0.5, timestamp: 1000, step: 3 })).toEqual({});
    expect(stored(id)).toEqual([{ key: 'loss', value: 0.5, timestamp: 1000, step: 3 }]);
    expect(await latest(id)).toEqual([{ key: 'loss', value: 0.5, timestamp: 1000, step: 3 }]);
  });

  it('defaults the step to 0 and takes int64 fields as decimal text, as protobuf JSON writes them', async () => {
    const id = await newRun();
    await member.ok('POST', '/runs/log-metric', { run_id: id, key: 'a', value: 1, timestamp: 5 });
    await member.ok('POST', '/runs/log-metric', { run_id: id, key: 'b', value: '2.5', timestamp: '1795319146729', step: '7' });
    expect(stored(id)).toEqual([
      { key: 'a', value: 1, timestamp: 5, step: 0 },
      { key: 'b', value: 2.5, timestamp: 1795319146729, step: 7 },
    ]);
  });

  const bad: Array<[string, Record<string, unknown>, string]> = [
    ['no key', { value: 1, timestamp: 1 }, "Missing value for required parameter 'key'"],
    ['an empty key', { key: '', value: 1, timestamp: 1 }, "Missing value for required parameter 'key'"],
    ['a 251-character key', { key: 'k'.repeat(251), value: 1, timestamp: 1 }, "'Metric name' exceeds the maximum length of 250 characters"],
    ['a key with a forbidden character', { key: 'loss?', value: 1, timestamp: 1 }, 'Names may only contain'],
    ['a key that is a path in disguise', { key: 'a//b', value: 1, timestamp: 1 }, "would resolve to 'a/b'"],
    ['no value', { key: 'm', timestamp: 1 }, "Missing value for required parameter 'value'"],
    ['a boolean value', { key: 'm', value: true, timestamp: 1 }, 'valid double'],
    ['a text value', { key: 'm', value: 'high', timestamp: 1 }, 'valid double'],
    ['an object value', { key: 'm', value: { v: 1 }, timestamp: 1 }, 'valid double'],
    ['no timestamp', { key: 'm', value: 1 }, "Missing value for required parameter 'timestamp'"],
    ['a negative timestamp', { key: 'm', value: 1, timestamp: -1 }, 'nonnegative'],
    ['a fractional timestamp', { key: 'm', value: 1, timestamp: 1.5 }, "'timestamp'"],
    ['a fractional step', { key: 'm', value: 1, timestamp: 1, step: 0.5 }, "'step'"],
    ['a model_id that is not text', { key: 'm', value: 1, timestamp: 1, model_id: 5 }, "'model_id'"],
  ];
  for (const [name, fields, message] of bad) {
    it(`refuses ${name}`, async () => {
      const id = await newRun();
      expectError(await member.post('/runs/log-metric', { run_id: id, ...fields }), 400, 'INVALID_PARAMETER_VALUE', message);
      expect(stored(id)).toEqual([]);
    });
  }
});

describe('NaN and the infinities', () => {
  it('round-trips them as MLflow JSON does, given as strings or as JSON numbers too large for a double', async () => {
    const id = await newRun();
    await member.ok('POST', '/runs/log-metric', { run_id: id, key: 'nan', value: 'NaN', timestamp: 1 });
    await member.ok('POST', '/runs/log-metric', { run_id: id, key: 'inf', value: 'Infinity', timestamp: 1 });
    await member.ok('POST', '/runs/log-metric', { run_id: id, key: 'ninf', value: '-Infinity', timestamp: 1 });
    await member.ok('POST', '/runs/log-metric', `{"run_id": "${id}", "key": "big", "value": 1e999, "timestamp": 1}`);
    await member.ok('POST', '/runs/log-batch', { run_id: id, metrics: [point('nan', 'NaN', 2, 1), point('inf', 'Infinity', 2, 1), point('ninf', '-Infinity', 2, 1)] });
    expect(await latest(id)).toEqual([
      { key: 'nan', value: 'NaN', timestamp: 2, step: 1 },
      { key: 'inf', value: 'Infinity', timestamp: 2, step: 1 },
      { key: 'ninf', value: '-Infinity', timestamp: 2, step: 1 },
      { key: 'big', value: 'Infinity', timestamp: 1, step: 0 },
    ]);
    expect((await history(id, 'nan')).metrics.map(({ value }: { value: unknown }) => value)).toEqual(['NaN', 'NaN']);
    expect((await history(id, 'inf')).metrics.map(({ value }: { value: unknown }) => value)).toEqual(['Infinity', 'Infinity']);
    expect((await history(id, 'ninf')).metrics.map(({ value }: { value: unknown }) => value)).toEqual(['-Infinity', '-Infinity']);
    // SQLite keeps NaN as NULL, and the infinities as themselves.
    const values = t.app.db.$client.prepare("SELECT key, value FROM metrics WHERE run_uuid = ? AND step = 1 ORDER BY rowid").all(id);
    expect(values).toEqual([
      { key: 'nan', value: null },
      { key: 'inf', value: Infinity },
      { key: 'ninf', value: -Infinity },
    ]);
  });

  it('counts NaN as 0 when it decides the latest point, as MLflow does', async () => {
    const id = await newRun();
    await member.ok('POST', '/runs/log-batch', { run_id: id, metrics: [point('m', -1, 5, 2), point('m', 'NaN', 5, 2)] });
    expect(await latest(id)).toEqual([{ key: 'm', value: 'NaN', timestamp: 5, step: 2 }]);
    await member.ok('POST', '/runs/log-metric', { run_id: id, key: 'm', value: 0.1, timestamp: 5, step: 2 });
    expect(await latest(id)).toEqual([{ key: 'm', value: 0.1, timestamp: 5, step: 2 }]);
  });
});

describe('latest_metrics', () => {
  it('keeps the point with the highest step, then timestamp, then value, whatever order they arrive in', async () => {
    const id = await newRun();
    await member.ok('POST', '/runs/log-metric', { run_id: id, key: 'm', value: 5, timestamp: 100, step: 10 });
    await member.ok('POST', '/runs/log-metric', { run_id: id, key: 'm', value: 9, timestamp: 999, step: 9 });
    expect(await latest(id)).toEqual([{ key: 'm', value: 5, timestamp: 100, step: 10 }]);
    await member.ok('POST', '/runs/log-batch', { run_id: id, metrics: [point('m', 1, 101, 10), point('m', 0, 50, 10)] });
    expect(await latest(id)).toEqual([{ key: 'm', value: 1, timestamp: 101, step: 10 }]);
    await member.ok('POST', '/runs/log-batch', { run_id: id, metrics: [point('m', 7, 101, 10), point('m', 3, 101, 10)] });
    expect(await latest(id)).toEqual([{ key: 'm', value: 7, timestamp: 101, step: 10 }]);
    expect(stored(id)).toHaveLength(6);
  });
});

describe('runs/log-batch', () => {
  it('writes metrics, params and tags, in the order MLflow answers them', async () => {
    const id = await newRun();
    await member.ok('POST', '/runs/log-batch', {
      run_id: id,
      metrics: [point('acc', 0.9, 10, 50), point('f1', 0.8, 10, 50), point('acc', 0.5, 9, 49)],
      params: [
        { key: 'batch', value: '32' },
        { key: 'opt', value: 'adam' },
      ],
      tags: [{ key: 't_batch', value: 'x' }],
    });
    const { data } = (await member.ok('GET', '/runs/get', { run_id: id })).run;
    expect(data).toEqual({
      metrics: [
        { key: 'acc', value: 0.9, timestamp: 10, step: 50 },
        { key: 'f1', value: 0.8, timestamp: 10, step: 50 },
      ],
      params: [
        { key: 'batch', value: '32' },
        { key: 'opt', value: 'adam' },
      ],
      tags: [
        { key: 'mlflow.runName', value: expect.any(String) },
        { key: 't_batch', value: 'x' },
      ],
    });
    expect(stored(id)).toHaveLength(3);
  });

  it('renames the run when the batch sets mlflow.runName', async () => {
    const id = await newRun();
    await member.ok('POST', '/runs/log-batch', { run_id: id, tags: [{ key: 'mlflow.runName', value: 'from-batch' }] });
    expect((await member.ok('GET', '/runs/get', { run_id: id })).run.info.run_name).toBe('from-batch');
  });

  it('takes exactly 1000 metrics', async () => {
    const id = await newRun();
    await member.ok('POST', '/runs/log-batch', { run_id: id, metrics: Array.from({ length: 1000 }, (_, step) => point('m', step, step, step)) });
    expect(stored(id)).toHaveLength(1000);
    expect(await latest(id)).toEqual([{ key: 'm', value: 999, timestamp: 999, step: 999 }]);
  });

  const many = (count: number, make: (index: number) => unknown) => Array.from({ length: count }, (_, index) => make(index));
  const refused: Array<[string, Record<string, unknown>, string]> = [
    ['1001 metrics', { metrics: many(1001, (step) => point('m', 1, 1, step)) }, 'A batch logging request can contain at most 1000 metrics. Got 1001 metrics.'],
    ['101 params', { params: many(101, (i) => ({ key: `p${i}`, value: 'v' })) }, 'at most 100 params. Got 101 params.'],
    ['101 tags', { tags: many(101, (i) => ({ key: `t${i}`, value: 'v' })) }, 'at most 100 tags. Got 101 tags.'],
    [
      'more than 1000 entities in all',
      { metrics: many(900, (step) => point('m', 1, 1, step)), params: many(100, (i) => ({ key: `p${i}`, value: 'v' })), tags: [{ key: 't', value: 'v' }] },
      'at most 1000 metrics, params, and tags. Got 1001 metrics, params, and tags.',
    ],
    ['a metric without a key', { metrics: [point('ok', 1, 1), { value: 1, timestamp: 1 }] }, "Missing value for required parameter 'metrics[1].key'"],
    ['a metric without a value', { metrics: [{ key: 'm', timestamp: 1 }] }, "'metrics[0].value'"],
    ['a metric without a timestamp', { metrics: [{ key: 'm', value: 1 }] }, "'metrics[0].timestamp'"],
    ['a metric that is not an object', { metrics: [5] }, "'metrics[0]'"],
    ['metrics that are not a list', { metrics: { key: 'm' } }, "'metrics'"],
    ['a metric key of 251 characters', { metrics: [point('k'.repeat(251), 1, 1)] }, '250'],
    ['a param without a key', { params: [{ value: 'v' }] }, "'params[0].key'"],
    ['a param value of 6001 characters', { params: [{ key: 'p', value: 'v'.repeat(6001) }] }, '6000'],
    ['the same param twice', { params: [{ key: 'p', value: '1' }, { key: 'p', value: '1' }] }, "Duplicate parameter keys have been submitted: ['p']"],
    ['a tag key with a bad character', { tags: [{ key: 'a|b', value: 'v' }] }, "'tags[0].key'"],
    ['no run id', { run_id: undefined }, "Missing value for required parameter 'run_id'"],
  ];
  for (const [name, fields, message] of refused) {
    it(`refuses ${name}, storing nothing`, async () => {
      const id = await newRun();
      expectError(await member.post('/runs/log-batch', { run_id: id, ...fields }), 400, 'INVALID_PARAMETER_VALUE', message);
      expect(stored(id)).toEqual([]);
      const { data } = (await member.ok('GET', '/runs/get', { run_id: id })).run;
      expect(data).toEqual({ tags: [{ key: 'mlflow.runName', value: expect.any(String) }] });
    });
  }

  it('refuses a metric nested 5000 lists deep with a 400, not a stack overflow', async () => {
    const id = await newRun();
    const body = `{"run_id": "${id}", "metrics": [${'['.repeat(5000)}${']'.repeat(5000)}]}`;
    expectError(await member.post('/runs/log-batch', body), 400, 'INVALID_PARAMETER_VALUE', "Invalid value <list> for parameter 'metrics[0]'");
    expect(stored(id)).toEqual([]);
  });

  it('refuses changing a logged param, and writes none of the batch', async () => {
    const id = await newRun();
    await member.ok('POST', '/runs/log-parameter', { run_id: id, key: 'lr', value: '0.01' });
    expectError(
      await member.post('/runs/log-batch', {
        run_id: id,
        metrics: [point('m', 1, 1)],
        params: [
          { key: 'lr', value: '0.02' },
          { key: 'new', value: 'x' },
        ],
        tags: [{ key: 't', value: 'v' }],
      }),
      400,
      'INVALID_PARAMETER_VALUE',
      `Changing param values is not allowed. Params were already logged='[{'key': 'lr', 'old_value': '0.01', 'new_value': '0.02'}]' for run ID='${id}'.`,
    );
    expect(stored(id)).toEqual([]);
    const { data } = (await member.ok('GET', '/runs/get', { run_id: id })).run;
    expect(data.params).toEqual([{ key: 'lr', value: '0.01' }]);
    expect(data.tags).toHaveLength(1);
  });

  it('keeps MLflow 3 metric sources (model_id, dataset) and answers them in the history', async () => {
    const id = await newRun();
    await member.ok('POST', '/runs/log-batch', {
      run_id: id,
      metrics: [{ key: 'acc', value: 0.92, timestamp: 5, step: 0, model_id: 'm-abc', dataset_name: 'eval', dataset_digest: 'd1' }, point('acc', 0.9, 4)],
    });
    expect((await history(id, 'acc')).metrics).toEqual([
      { key: 'acc', value: 0.9, timestamp: 4, step: 0 },
      { key: 'acc', value: 0.92, timestamp: 5, step: 0, model_id: 'm-abc', dataset_name: 'eval', dataset_digest: 'd1' },
    ]);
    expect(await latest(id)).toEqual([{ key: 'acc', value: 0.92, timestamp: 5, step: 0 }]);
  });

  it('takes the body double-encoded as a JSON string, as older clients sent it', async () => {
    const id = await newRun();
    await member.ok('POST', '/runs/log-batch', JSON.stringify(JSON.stringify({ run_id: id, metrics: [point('m', 1, 1)] })));
    expect(stored(id)).toHaveLength(1);
  });
});

describe('metrics/get-history', () => {
  let id: string;
  beforeAll(async () => {
    id = await newRun();
    await member.ok('POST', '/runs/log-batch', { run_id: id, metrics: Array.from({ length: 25 }, (_, i) => point('loss', 1 / (i + 1), 1000 + i, 24 - i)) });
  });

  it('answers every point in step order', async () => {
    const { metrics, next_page_token } = await history(id, 'loss');
    expect(metrics).toHaveLength(25);
    expect(metrics.map(({ step }: { step: number }) => step)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(metrics[0]).toEqual({ key: 'loss', value: 1 / 25, timestamp: 1024, step: 0 });
    expect(next_page_token).toBeUndefined();
  });

  it('pages with max_results and opaque tokens', async () => {
    const steps: number[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await history(id, 'loss', { max_results: 10, ...(token && { page_token: token }) });
      steps.push(...page.metrics.map(({ step }: { step: number }) => step));
      token = page.next_page_token;
      pages++;
    } while (token);
    expect(pages).toBe(3);
    expect(steps).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(Object.keys(await history(id, 'loss', { max_results: 25 }))).toEqual(['metrics']);
  });

  it('answers {} for a metric never logged', async () => {
    expect(await history(id, 'nothing')).toEqual({});
  });

  it('refuses a missing key, a bad max_results and a bad token', async () => {
    expectError(await member.get('/metrics/get-history', { run_id: id }), 400, 'INVALID_PARAMETER_VALUE', "'metric_key'");
    expectError(await member.get('/metrics/get-history', { run_id: id, metric_key: 'loss', max_results: 0 }), 400, 'INVALID_PARAMETER_VALUE');
    expectError(await member.get('/metrics/get-history', { run_id: id, metric_key: 'loss', max_results: 'ten' }), 400, 'INVALID_PARAMETER_VALUE');
    expectError(await member.get('/metrics/get-history', { run_id: id, metric_key: 'loss', page_token: 'bm90IGpzb24=' }), 400, 'INVALID_PARAMETER_VALUE', 'Invalid page token');
  });
});

describe('metrics/get-history-bulk-interval', () => {
  let a: string;
  let b: string;
  beforeAll(async () => {
    a = await newRun();
    b = await newRun();
    await member.ok('POST', '/runs/log-batch', { run_id: a, metrics: Array.from({ length: 100 }, (_, step) => point('loss', step, step, step)) });
    await member.ok('POST', '/runs/log-batch', { run_id: b, metrics: [point('loss', 1, 1, 3), point('loss', 2, 2, 57), point('loss', 3, 3, 120)] });
  });

  it('answers every step of every run when there are few, with run ids', async () => {
    const { metrics } = await member.ok('GET', '/metrics/get-history-bulk-interval', { run_ids: [b], metric_key: 'loss' });
    expect(metrics).toEqual([
      { key: 'loss', value: 1, timestamp: 1, step: 3, run_id: b },
      { key: 'loss', value: 2, timestamp: 2, step: 57, run_id: b },
      { key: 'loss', value: 3, timestamp: 3, step: 120, run_id: b },
    ]);
  });

  it('samples evenly within the range and keeps each run first and last step', async () => {
    const { metrics } = await member.ok('GET', '/metrics/get-history-bulk-interval', { run_ids: [a, b], metric_key: 'loss', max_results: 10 });
    const stepsOf = (runId: string) => metrics.filter(({ run_id }: { run_id: string }) => run_id === runId).map(({ step }: { step: number }) => step);
    // 101 distinct steps in [0, 120]: every 10.1th, the last (120), and each run's ends (0, 99; 3, 120).
    expect(stepsOf(a)).toEqual([0, 3, 10, 20, 30, 40, 50, 60, 70, 80, 90, 99]);
    expect(stepsOf(b)).toEqual([3, 120]);
    const ranged = await member.ok('GET', '/metrics/get-history-bulk-interval', { run_ids: [a], metric_key: 'loss', start_step: 10, end_step: 19, max_results: 5 });
    expect(ranged.metrics.map(({ step }: { step: number }) => step)).toEqual([10, 12, 14, 16, 18, 19]);
  });

  const bad: Array<[string, Record<string, string | number | string[]>, string]> = [
    ['no run ids', { metric_key: 'loss' }, "'run_ids'"],
    ['no metric key', { run_ids: ['x'] }, "'metric_key'"],
    ['only a start step', { run_ids: ['x'], metric_key: 'loss', start_step: 1 }, 'both must be specified'],
    ['an end before the start', { run_ids: ['x'], metric_key: 'loss', start_step: 5, end_step: 1 }, 'end_step must be greater than start_step'],
    ['max_results over 2500', { run_ids: ['x'], metric_key: 'loss', max_results: 2501 }, 'max_results must be between 1 and 2500.'],
    ['101 runs', { run_ids: Array.from({ length: 101 }, (_, i) => `r${i}`), metric_key: 'loss' }, 'at most 100 run_ids. Received 101 run_ids.'],
  ];
  for (const [name, query, message] of bad) {
    it(`refuses ${name}`, async () => expectError(await member.get('/metrics/get-history-bulk-interval', query), 400, 'INVALID_PARAMETER_VALUE', message));
  }

  it('answers 404 for an unknown run', async () => {
    expectError(await member.get('/metrics/get-history-bulk-interval', { run_ids: [a, 'nope'], metric_key: 'loss' }), 404, 'RESOURCE_DOES_NOT_EXIST');
  });
});

describe('metrics/get-history-bulk', () => {
  let a: string;
  let b: string;
  beforeAll(async () => {
    a = await newRun();
    b = await newRun();
    await member.ok('POST', '/runs/log-batch', { run_id: a, metrics: [point('acc', 0.5, 20, 1), point('acc', 0.7, 10, 2), point('acc', 'NaN', 30, 3)] });
    await member.ok('POST', '/runs/log-batch', { run_id: b, metrics: [point('acc', 0.9, 5, 0), point('other', 1, 5, 0)] });
  });

  it('answers every point of each run, runs in id order, points by time then step', async () => {
    const { metrics } = await member.ok('GET', '/metrics/get-history-bulk', { run_id: [b, a], metric_key: 'acc' });
    const expected = [
      ...[
        { value: 0.7, timestamp: 10, step: 2, run_id: a },
        { value: 0.5, timestamp: 20, step: 1, run_id: a },
        { value: 'NaN', timestamp: 30, step: 3, run_id: a },
      ],
      { value: 0.9, timestamp: 5, step: 0, run_id: b },
    ].map((metric) => ({ key: 'acc', ...metric }));
    expect(metrics).toEqual(a < b ? expected : [...expected.slice(3), ...expected.slice(0, 3)]);
  });

  it('caps the answer at max_results points', async () => {
    const { metrics } = await member.ok('GET', '/metrics/get-history-bulk', { run_id: [a], metric_key: 'acc', max_results: 2 });
    expect(metrics.map(({ step }: { step: number }) => step)).toEqual([2, 1]);
  });

  it('answers an empty list for a metric no run logged', async () => {
    expect(await member.ok('GET', '/metrics/get-history-bulk', { run_id: [a], metric_key: 'nothing' })).toEqual({ metrics: [] });
  });

  const bad: Array<[string, Record<string, string | number | string[]>, number, string]> = [
    ['no run id', { metric_key: 'acc' }, 400, 'must specify at least one run_id'],
    ['no metric key', { run_id: ['x'] }, 400, 'must specify a metric_key'],
    ['101 runs', { run_id: Array.from({ length: 101 }, (_, i) => `r${i}`), metric_key: 'acc' }, 400, 'cannot specify more than 100 run_ids. Received 101 run_ids.'],
    ['a zero max_results', { run_id: ['x'], metric_key: 'acc', max_results: 0 }, 400, "'max_results'"],
    ['an unknown run', { run_id: ['nope'], metric_key: 'acc' }, 404, 'Run with id=nope not found'],
  ];
  for (const [name, query, status, message] of bad) {
    it(`refuses ${name}`, async () => {
      const code = status === 404 ? 'RESOURCE_DOES_NOT_EXIST' : 'INVALID_PARAMETER_VALUE';
      expectError(await member.get('/metrics/get-history-bulk', query), status, code, message);
    });
  }
});
