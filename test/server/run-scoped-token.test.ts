import { beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_TAG } from '../../src/auth/projects.ts';
import { RUN_SCOPE_RULES, runScopeKey } from '../../src/server/middleware/run-scope.ts';
import { PUBLIC_ROUTES } from '../../src/server/server.ts';
import { ADMIN, createTestApp, MEMBER, type TestApp } from '../helpers/test-app.ts';
import { mlflowAs } from './mlflow/tracking-client.ts';

/** Mia's job logs to `own` in project vision; `sibling` is another run there; `foreign` lies in project other. */
interface World {
  visionExp: string;
  otherExp: string;
  own: string;
  sibling: string;
  foreign: string;
  secret: string;
}

let t: TestApp;
let w: World;
const by = { actor: 'test' };
const HOUR = 3_600_000;

beforeAll(async () => {
  t = await createTestApp();
  for (const name of ['vision', 'other']) {
    t.app.projects.create({ name }, by);
    t.app.projects.setMember(t.app.projects.get(name), MEMBER.username, 'editor', by);
  }
  const mia = mlflowAs(t, MEMBER);
  const visionExp = await mia.createExperiment('vision-runs', [{ key: PROJECT_TAG, value: 'vision' }]);
  const otherExp = await mia.createExperiment('other-runs', [{ key: PROJECT_TAG, value: 'other' }]);
  const [own, sibling, foreign] = [await mia.createRun(visionExp), await mia.createRun(visionExp), await mia.createRun(otherExp)];
  const user = t.app.users.get(MEMBER.username);
  const { secret } = t.app.tokens.createForRun(user, { runUuid: own, name: 'job 1', expiresAt: t.clock.now + HOUR }, by);
  w = { visionExp, otherExp, own, sibling, foreign, secret };
});

type Query = Record<string, string | string[]>;

/** A request with the run-scoped token (or `authorization`): GETs carry `query`, the rest `body` as JSON. */
async function call(method: string, path: string, options: { body?: unknown; query?: Query; authorization?: string } = {}) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(options.query ?? {})) for (const item of [value].flat()) params.append(name, item);
  const headers: Record<string, string> = { Authorization: options.authorization ?? `Bearer ${w.secret}` };
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await t.request(params.size > 0 ? `${path}?${params}` : path, {
    method,
    headers,
    ...(options.body !== undefined && { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }),
  });
  const text = await response.text();
  return { status: response.status, text, json: () => JSON.parse(text) };
}

const scopedRefusal = () => `this token is scoped to run ${w.own}`;

/** Every handler in the router as `METHOD /path`, once, the public ones left out. */
function guardedRoutes(): Array<{ method: string; path: string }> {
  const seen = new Set<string>();
  return t.http.routes.filter(({ method, path }) => {
    const key = `${method} ${path}`;
    return method !== 'ALL' && !PUBLIC_ROUTES.includes(key) && !seen.has(key) && Boolean(seen.add(key));
  });
}

describe('the route classification', () => {
  it('classifies every MLflow route, and names no route that does not exist', () => {
    const keys = guardedRoutes().flatMap(({ method, path }) => runScopeKey(method, path) ?? []);
    expect(keys.length).toBeGreaterThan(100);
    expect(keys.filter((key) => !(key in RUN_SCOPE_RULES))).toEqual([]);
    expect(Object.keys(RUN_SCOPE_RULES).filter((key) => !keys.includes(key))).toEqual([]);
  });

  it('keys both mounts of the MLflow API alike, and nothing else', () => {
    expect(runScopeKey('POST', '/api/2.0/mlflow/runs/log-metric')).toBe('POST /mlflow/runs/log-metric');
    expect(runScopeKey('POST', '/ajax-api/2.0/mlflow/runs/log-metric')).toBe('POST /mlflow/runs/log-metric');
    expect(runScopeKey('PUT', '/api/2.0/mlflow-artifacts/artifacts/*')).toBe('PUT /mlflow-artifacts/artifacts/*');
    expect(runScopeKey('POST', '/api/v1/tokens')).toBeUndefined();
    expect(runScopeKey('GET', '/api/2.0/mlflowx/runs/get')).toBeUndefined();
  });
});

describe('a run-scoped token', () => {
  it('is refused on every route for what lies outside its run and project, with a message naming its run', async () => {
    const elsewhere = `${w.otherExp}/${w.foreign}/artifacts`;
    const query = {
      run_id: w.foreign,
      run_ids: w.foreign,
      experiment_id: w.otherExp,
      experiment_ids: w.otherExp,
      experiment_name: 'other-runs',
      name: 'model',
      path: elsewhere,
    };
    const body = { ...query, run_ids: [w.foreign], experiment_ids: [w.otherExp], key: 'k', value: '1', metrics: [], num_parts: 1 };
    const leaks: string[] = [];
    for (const { method, path } of guardedRoutes()) {
      const key = runScopeKey(method, path);
      if (key !== undefined && RUN_SCOPE_RULES[key] === 'project-answer') continue; // filtered, below
      const concrete = path.replace(/:[a-zA-Z]+/g, 'x').replace('*', `${elsewhere}/file.txt`);
      const answer = await call(method, concrete, method === 'GET' ? { query } : { query, body });
      if (answer.status !== 403 || !answer.text.includes(scopedRefusal())) leaks.push(`${method} ${path} -> ${answer.status} ${answer.text.slice(0, 150)}`);
    }
    expect(leaks).toEqual([]);
  });

  /** A valid request body for each run write, so each is shown to work on the token's own run. */
  const RUN_WRITES: Record<string, (runId: string) => Record<string, unknown>> = {
    'POST /mlflow/runs/log-metric': (run_id) => ({ run_id, key: 'loss', value: 0.5, timestamp: 1_000, step: 1 }),
    'POST /mlflow/runs/log-batch': (run_id) => ({ run_id, metrics: [{ key: 'acc', value: 0.9, timestamp: 1_000, step: 1 }], params: [{ key: 'lr', value: '0.1' }] }),
    'POST /mlflow/runs/log-parameter': (run_id) => ({ run_id, key: 'epochs', value: '3' }),
    'POST /mlflow/runs/set-tag': (run_id) => ({ run_id, key: 'stage', value: 'train' }),
    'POST /mlflow/runs/delete-tag': (run_id) => ({ run_id, key: 'stage' }),
    'POST /mlflow/runs/log-inputs': (run_id) => ({ run_id, datasets: [{ dataset: { name: 'd', digest: 'abc', source_type: 'local', source: '/data' } }] }),
    'POST /mlflow/runs/log-model': (run_id) => ({ run_id, model_json: JSON.stringify({ artifact_path: 'model', flavors: {}, utc_time_created: 'now', run_id }) }),
    'POST /mlflow/runs/outputs': (run_id) => ({ run_id, models: [{ model_id: 'm-1', step: 1 }] }),
    'POST /mlflow/runs/update': (run_uuid) => ({ run_uuid, status: 'FINISHED', end_time: 2_000 }),
  };

  it('has a working example for every run write the rules allow', () => {
    const writes = Object.entries(RUN_SCOPE_RULES).filter(([key, rule]) => rule === 'own-run' && key.startsWith('POST '));
    expect(Object.keys(RUN_WRITES).sort()).toEqual(writes.map(([key]) => key).sort());
  });

  it.each(Object.entries(RUN_WRITES))('%s: writes to its own run, never to another run of the same project', async (key, bodyFor) => {
    const path = `/api/2.0${key.slice('POST '.length)}`;
    const other = await call('POST', path, { body: bodyFor(w.sibling) });
    expect(other.status).toBe(403);
    expect(other.json()).toEqual({ error_code: 'PERMISSION_DENIED', message: `${scopedRefusal()}: it cannot touch run ${w.sibling}` });
    const own = await call('POST', path.replace('/api/', '/ajax-api/'), { body: bodyFor(w.own) });
    expect(own.status, own.text).toBe(200);
  });

  it('lands what it logs in its run (run_id wins over run_uuid, as the handlers read it)', async () => {
    expect((await call('POST', '/api/2.0/mlflow/runs/log-metric', { body: { run_id: w.own, run_uuid: w.sibling, key: 'both', value: 1, timestamp: 1, step: 0 } })).status).toBe(200);
    const smuggled = await call('POST', '/api/2.0/mlflow/runs/log-metric', { body: { run_id: '', run_uuid: w.sibling, key: 'both', value: 1, timestamp: 1, step: 0 } });
    expect(smuggled.status).toBe(403);
    const { run } = (await call('GET', '/api/2.0/mlflow/runs/get', { query: { run_id: w.own } })).json();
    expect(run.data.metrics.map((metric: { key: string }) => metric.key).sort()).toEqual(['acc', 'both', 'loss']);
    expect(run.data.params).toEqual(expect.arrayContaining([{ key: 'epochs', value: '3' }, { key: 'lr', value: '0.1' }]));
    expect(run.info).toMatchObject({ status: 'FINISHED', end_time: 2_000 });
    const sibling = (await mlflowAs(t, MEMBER).ok('GET', '/runs/get', { run_id: w.sibling })).run;
    expect(sibling.data.metrics).toBeUndefined();
  });

  it('reads within its run project and nowhere else', async () => {
    const rows: Array<[string, string, Query | Record<string, unknown>, number]> = [
      ['GET', '/mlflow/runs/get', { run_id: w.sibling }, 200],
      ['GET', '/mlflow/runs/get', { run_uuid: w.foreign }, 403],
      ['GET', '/mlflow/metrics/get-history', { run_id: w.own, metric_key: 'loss' }, 200],
      ['GET', '/mlflow/metrics/get-history-bulk', { run_id: [w.own, w.sibling], metric_key: 'loss' }, 200],
      ['GET', '/mlflow/metrics/get-history-bulk', { run_id: [w.own, w.foreign], metric_key: 'loss' }, 403],
      ['GET', '/mlflow/metrics/get-history-bulk-interval', { run_ids: [w.foreign], metric_key: 'loss' }, 403],
      ['GET', '/mlflow/experiments/get', { experiment_id: w.visionExp }, 200],
      ['GET', '/mlflow/experiments/get', { experiment_id: '0' }, 403],
      ['GET', '/mlflow/experiments/get-by-name', { experiment_name: 'vision-runs' }, 200],
      ['GET', '/mlflow/experiments/get-by-name', { experiment_name: 'Default' }, 403],
      ['POST', '/mlflow/runs/search', { experiment_ids: [w.visionExp] }, 200],
      ['POST', '/mlflow/runs/search', { experiment_ids: [w.visionExp, w.otherExp] }, 403],
      ['POST', '/mlflow/experiments/search-datasets', { experiment_ids: [w.visionExp] }, 200],
    ];
    for (const [method, path, input, status] of rows) {
      const answer = await call(method, `/api/2.0${path}`, method === 'GET' ? { query: input as Query } : { body: input });
      expect(answer.status, `${method} ${path} ${JSON.stringify(input)}: ${answer.text}`).toBe(status);
      if (status === 403) expect(answer.json().message).toBe(`${scopedRefusal()}: it reads only in its run's project`);
    }
  });

  it("finds only its project's experiments, over GET and POST", async () => {
    for (const answer of [await call('GET', '/api/2.0/mlflow/experiments/search'), await call('POST', '/ajax-api/2.0/mlflow/experiments/search', { body: {} })]) {
      expect(answer.status).toBe(200);
      expect(answer.json().experiments.map((experiment: { name: string }) => experiment.name)).toEqual(['vision-runs']);
    }
    const mine = (await mlflowAs(t, MEMBER).ok('POST', '/experiments/search', {})).experiments.map((experiment: { name: string }) => experiment.name);
    expect(mine.sort()).toEqual(['Default', 'other-runs', 'vision-runs']);
  });

  it('bad input is still a 400, not a pass', async () => {
    expect((await call('GET', '/api/2.0/mlflow/experiments/get', { query: { experiment_id: 'x' } })).status).toBe(400);
    expect((await call('POST', '/api/2.0/mlflow/runs/log-metric', { body: { key: 'k', value: 1, timestamp: 1 } })).status).toBe(400);
    expect((await call('POST', '/api/2.0/mlflow/runs/log-metric', { body: { run_id: 7, key: 'k', value: 1, timestamp: 1 } })).status).toBe(400);
    expect((await call('POST', '/api/2.0/mlflow/runs/log-metric', { body: '{"run_id": ' })).status).toBe(400);
  });
});

describe("a run-scoped token and its run's artifacts", () => {
  const artifacts = '/api/2.0/mlflow-artifacts';
  const folder = () => `${w.visionExp}/${w.own}/artifacts`;
  const put = (path: string, body = 'x') =>
    t.request(`${artifacts}/artifacts/${path}`, { method: 'PUT', headers: { Authorization: `Bearer ${w.secret}` }, body });

  it('uploads, lists and downloads under its run, and refuses the sibling run, the experiment root and the store root', async () => {
    expect((await put(`${folder()}/weights/model.bin`, 'weights')).status).toBe(200);
    expect((await call('GET', `${artifacts}/artifacts/${folder()}/weights/model.bin`)).text).toBe('weights');
    expect((await call('GET', `${artifacts}/artifacts`, { query: { path: `${folder()}/` } })).json()).toEqual({ files: [{ path: 'weights', is_dir: true }] });
    expect((await call('GET', '/api/2.0/mlflow/artifacts/list', { query: { run_id: w.own } })).json()).toMatchObject({ files: [{ path: 'weights', is_dir: true }] });
    for (const refused of [
      await put(`${w.visionExp}/${w.sibling}/artifacts/x.txt`),
      await put(`${w.visionExp}/${w.own}/x.txt`),
      await put(`${folder()}/%2e%2e/%2e%2e/${w.sibling}/artifacts/x.txt`),
    ]) {
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { message: string }).message).toBe(`${scopedRefusal()}: its artifacts are under ${folder()}`);
    }
    for (const path of ['', `${w.visionExp}`, `${w.visionExp}/${w.sibling}/artifacts`]) {
      expect((await call('GET', `${artifacts}/artifacts`, { query: { path } })).status).toBe(403);
    }
    expect((await call('GET', '/api/2.0/mlflow/artifacts/list', { query: { run_id: w.sibling } })).status).toBe(403);
    expect((await call('DELETE', `${artifacts}/artifacts/${folder()}/weights/model.bin`)).status).toBe(403);
  });

  it('refuses a path that tries to climb out with a 400', async () => {
    expect((await call('GET', `${artifacts}/artifacts`, { query: { path: `${folder()}/../../${w.sibling}/artifacts` } })).status).toBe(400);
  });

  it('runs a multipart upload into its run folder only', async () => {
    const created = await call('POST', `${artifacts}/mpu/create/${folder()}`, { body: { path: 'big.bin', num_parts: 1 } });
    expect(created.status, created.text).toBe(200);
    const aborted = await call('POST', `${artifacts}/mpu/abort/${folder()}`, { body: { path: 'big.bin', upload_id: created.json().upload_id } });
    expect(aborted.status, aborted.text).toBe(200);
    expect((await call('POST', `${artifacts}/mpu/create/${w.visionExp}/${w.sibling}/artifacts`, { body: { path: 'big.bin', num_parts: 1 } })).status).toBe(403);
  });
});

describe('what a run-scoped token is not', () => {
  it('is not a way to new credentials, the dashboard or the user list', async () => {
    for (const [method, path] of [
      ['POST', '/api/v1/tokens'],
      ['GET', '/api/v1/whoami'],
      ['GET', '/'],
      ['GET', '/settings/tokens'],
      ['GET', '/no/such/page'],
    ] as const) {
      const answer = await call(method, path, method === 'POST' ? { body: { name: 'escape' } } : {});
      expect(answer.status, `${method} ${path}`).toBe(403);
      expect(answer.text).toContain(scopedRefusal());
    }
  });

  it('is scoped over HTTP Basic too, as MLFLOW_TRACKING_USERNAME/PASSWORD send it', async () => {
    const authorization = t.basic({ username: MEMBER.username, password: w.secret });
    expect((await call('POST', '/api/2.0/mlflow/runs/set-tag', { body: { run_id: w.own, key: 'via', value: 'basic' }, authorization })).status).toBe(200);
    expect((await call('POST', '/api/2.0/mlflow/runs/set-tag', { body: { run_id: w.sibling, key: 'via', value: 'basic' }, authorization })).status).toBe(403);
  });

  it("still needs its user's role in the project", async () => {
    const vision = t.app.projects.get('vision');
    t.app.projects.setMember(vision, MEMBER.username, 'viewer', by);
    try {
      const answer = await call('POST', '/api/2.0/mlflow/runs/set-tag', { body: { run_id: w.own, key: 'k', value: 'v' } });
      expect(answer.status).toBe(403);
      expect(answer.json().message).toMatch(/needs the editor role/);
    } finally {
      t.app.projects.setMember(vision, MEMBER.username, 'editor', by);
    }
  });

  it("leaves other callers alone: the user's own credentials reach everything they could before", async () => {
    expect((await call('POST', '/api/2.0/mlflow/runs/set-tag', { body: { run_id: w.foreign, key: 'k', value: 'v' }, authorization: t.basic(MEMBER) })).status).toBe(200);
    expect((await call('GET', '/api/v1/whoami', { authorization: t.basic(ADMIN) })).status).toBe(200);
  });

  it('ends when revoked for its run, or when it expires', async () => {
    const user = t.app.users.get(MEMBER.username);
    const minted = t.app.tokens.createForRun(user, { runUuid: w.sibling, name: 'job 2', expiresAt: t.clock.now + HOUR }, by);
    const bearer = `Bearer ${minted.secret}`;
    const setTag = () => call('POST', '/api/2.0/mlflow/runs/set-tag', { body: { run_id: w.sibling, key: 'k', value: 'v' }, authorization: bearer });
    expect((await setTag()).status).toBe(200);
    expect(minted.token).toMatchObject({ runUuid: w.sibling, scope: 'write', name: 'job 2' });
    expect(t.app.tokens.revokeForRun(w.sibling, by)).toBe(1);
    expect(t.app.tokens.revokeForRun(w.sibling, by)).toBe(0);
    expect((await setTag()).status).toBe(401);

    const expiring = t.app.tokens.createForRun(user, { runUuid: w.sibling, name: 'job 3', expiresAt: t.clock.now + 1_000 }, by);
    t.clock.advance(1_000);
    expect((await call('GET', '/api/2.0/mlflow/runs/get', { query: { run_id: w.sibling }, authorization: `Bearer ${expiring.secret}` })).status).toBe(401);
  });
});
