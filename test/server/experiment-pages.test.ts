import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, createTestApp, type TestApp } from '../helpers/test-app.ts';
import { rebuildMetricBuckets } from '../tracking/metric-fixtures.ts';
import { addUser, mlflowAs, type MlflowClient } from './mlflow/tracking-client.ts';

let t: TestApp;
let admin: MlflowClient;
let viewer: { username: string; password: string };
let outsider: { username: string; password: string };
let experimentId: string;
let secretExperimentId: string;
let firstRunId: string;
let secretRunId: string;

const RUNS = 120;
const POINTS = 1_000_000;

const page = (path: string, user = viewer, headers: Record<string, string> = {}) => t.get(path, user, headers);
const runLinks = (text: string) => [...text.matchAll(/href="\/runs\/([0-9a-f]{32})"/g)].map((match) => match[1]);

/** A million points of `loss` in one statement: a falling sine, one NaN and one spike that downsampling must keep. */
function insertLongHistory(runId: string): void {
  t.app.db.$client
    .prepare(
      `INSERT INTO metrics (run_uuid, key, value, timestamp, step)
       WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1)
       SELECT ?, 'loss', CASE i WHEN 500000 THEN NULL WHEN 777777 THEN 100.0 ELSE 1.0 / (1 + i / 1000.0) END, 1700000000000 + i, i FROM n`,
    )
    .run(POINTS, runId);
  rebuildMetricBuckets(t.app.db.$client);
}

beforeAll(async () => {
  t = await createTestApp();
  admin = mlflowAs(t, ADMIN);
  viewer = await addUser(t, 'val', 'viewer');
  outsider = await addUser(t, 'otto', undefined);
  t.app.projects.create({ name: 'secret', description: '' }, { actor: 'test' });
  t.clock.advance(60_000);
  experimentId = await admin.createExperiment('vision-sweep');
  secretExperimentId = await admin.createExperiment('top-secret-sweep', [{ key: 'trainyard.project', value: 'secret' }]);
  for (let index = 0; index < RUNS; index++) {
    const runId = await admin.createRun(experimentId, { run_name: `run-${String(index).padStart(3, '0')}`, start_time: 1_700_000_000_000 + index * 1000 });
    await admin.ok('POST', '/runs/log-batch', {
      run_id: runId,
      metrics: [
        { key: 'accuracy', value: index / RUNS, timestamp: 1, step: 0 },
        { key: 'loss', value: 1 - index / RUNS, timestamp: 1, step: 0 },
      ],
      params: [{ key: 'lr', value: String(index % 3) }],
    });
    if (index === 0) firstRunId = runId;
  }
  secretRunId = await admin.createRun(secretExperimentId, { run_name: 'classified' });
  insertLongHistory(firstRunId);
});

describe('experiments list', () => {
  it('shows the experiments a viewer can see, newest first, and hides the others', async () => {
    const { status, text } = await page('/experiments');
    expect(status).toBe(200);
    expect(text).toContain(`href="/experiments/${experimentId}"`);
    expect(text).toContain('vision-sweep');
    expect(text).toContain('href="/projects/default"');
    expect(text).not.toContain('top-secret-sweep');
    expect(text).toMatch(/<a href="\/experiments"[^>]*class="active"/);
    expect(text.indexOf('vision-sweep')).toBeLessThan(text.indexOf('>Default<'));
  });

  it('says so when a user can see no experiment', async () => {
    const { status, text } = await page('/experiments', outsider);
    expect(status).toBe(200);
    expect(text).toContain('No experiments yet');
  });

  it("shows each experiment's active runs and when the latest started, deleted runs left out", async () => {
    const quiet = await admin.createExperiment('quiet-sweep');
    const deleted = await admin.createRun(quiet, { start_time: 1_800_000_000_000 });
    await admin.createRun(quiet, { start_time: 1_750_000_000_000 });
    await admin.ok('POST', '/runs/delete', { run_id: deleted });
    const empty = await admin.createExperiment('empty-sweep');
    const { text } = await page('/experiments');
    const row = (id: string) => new RegExp(`<tr>\\s*<td><a href="/experiments/${id}">[\\s\\S]*?</tr>`).exec(text)![0];
    expect(row(experimentId)).toMatch(/<td class="number">120<\/td>\s*<td>2023-11-14 22:15 UTC<\/td>/);
    expect(row(quiet)).toMatch(/<td class="number">1<\/td>\s*<td>2025-06-15 \d\d:\d\d UTC<\/td>/);
    expect(row(empty)).toMatch(/<td class="number">0<\/td>\s*<td>—<\/td>/);
    expect(text).not.toContain('top-secret-sweep');
  });

  it('counts 10,000 runs in one grouped query, fast', async () => {
    const bulk = Number(await admin.createExperiment('bulk-sweep'));
    t.app.db.$client
      .prepare(
        `INSERT INTO runs (run_uuid, experiment_id, status, start_time, artifact_uri, lifecycle_stage)
         WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 9999)
         SELECT printf('%032x', 1000000 + i), ?, 'FINISHED', 1700000000000 + i, 'mlflow-artifacts:/x', CASE WHEN i % 100 = 0 THEN 'deleted' ELSE 'active' END FROM n`,
      )
      .run(bulk);
    const caller = { user: t.app.users.get(ADMIN.username) };
    const ids = (t.app.tracking.experiments.search(caller, { max_results: 1000 }).experiments ?? []).map(({ experiment_id }) => experiment_id);
    const timings: number[] = [];
    for (let round = 0; round < 20; round++) {
      const started = performance.now();
      t.app.tracking.experiments.runActivity(caller, ids);
      timings.push(performance.now() - started);
    }
    const median = timings.sort((a, b) => a - b)[10]!;
    const started = performance.now();
    const { text } = await page('/experiments');
    const pageTime = performance.now() - started;
    console.log(`run activity of ${ids.length} experiments over 10,120 runs: ${median.toFixed(2)} ms median; /experiments page ${pageTime.toFixed(1)} ms`);
    expect(t.app.tracking.experiments.runActivity(caller, [String(bulk)]).get(String(bulk))).toEqual({ activeRuns: 9900, lastRunTime: 1_700_000_009_999 });
    expect(text).toContain('<td class="number">9,900</td>');
    expect(median).toBeLessThan(50);
  });
});

describe('experiment page', () => {
  it('shows the first 50 runs, newest first, with metric and param columns and a next link', async () => {
    const { status, text } = await page(`/experiments/${experimentId}`);
    expect(status).toBe(200);
    expect(runLinks(text)).toHaveLength(50);
    expect(text).toContain('run-119');
    expect(text).not.toContain('run-069');
    for (const column of ['accuracy', 'loss', 'lr']) expect(text).toContain(`>${column}</a></th>`);
    expect(text).toContain('class="badge accent">RUNNING');
    expect(text).toMatch(/href="[^"]*page_token=[^"]*">Next/);
    expect(text).not.toContain('Previous');
  });

  it('pages forward and back with MLflow page tokens', async () => {
    const first = await page(`/experiments/${experimentId}`);
    const next = /href="([^"]*)">Next/.exec(first.text)![1]!.replaceAll('&amp;', '&');
    const second = await page(next);
    expect(runLinks(second.text)).toHaveLength(50);
    expect(runLinks(second.text).some((id) => runLinks(first.text).includes(id))).toBe(false);
    const third = await page(/href="([^"]*)">Next/.exec(second.text)![1]!.replaceAll('&amp;', '&'));
    expect(runLinks(third.text)).toHaveLength(RUNS - 100);
    expect(third.text).not.toContain('Next →');
    const back = /href="([^"]*)">← Previous/.exec(third.text)![1]!.replaceAll('&amp;', '&');
    expect(runLinks((await page(back)).text)).toEqual(runLinks(second.text));
  });

  it('filters and sorts through runs/search, keeping both in the links', async () => {
    const { status, text } = await page(`/experiments/${experimentId}?filter=${encodeURIComponent("params.lr = '1' and metrics.accuracy < 0.1")}&order_by=${encodeURIComponent('metrics.`accuracy` ASC')}`);
    expect(status).toBe(200);
    expect(runLinks(text)).toHaveLength(4); // 1, 4, 7, 10
    expect(text.indexOf('run-001')).toBeLessThan(text.indexOf('run-010'));
    expect(text).toContain('accuracy ↑');
    expect(text).toContain('value="params.lr = &#39;1&#39; and metrics.accuracy &lt; 0.1"');
  });

  it('answers htmx with the table alone, and a bad filter with a flash message only', async () => {
    const fragment = await page(`/experiments/${experimentId}?filter=${encodeURIComponent('metrics.accuracy > 0.95')}`, viewer, { 'HX-Request': 'true' });
    expect(fragment.status).toBe(200);
    expect(fragment.text.startsWith('<div id="runs">')).toBe(true);
    expect(runLinks(fragment.text)).toHaveLength(5);
    const bad = await page(`/experiments/${experimentId}?filter=${encodeURIComponent('metrics.accuracy >>> 1')}`, viewer, { 'HX-Request': 'true' });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('hx-retarget')).toBe('#flash');
    expect(bad.text).toContain('class="flash error"');
    expect(bad.text).not.toContain('<table');
  });

  it.each([
    ['a project the user cannot see', () => `/experiments/${secretExperimentId}`, 404],
    ['an unknown experiment', () => '/experiments/9999', 404],
    ['a malformed id', () => '/experiments/abc', 400],
    ['a malformed page token', () => `/experiments/${experimentId}?page_token=!!`, 400],
  ])('refuses %s', async (_name, path, status) => {
    expect((await page(path())).status).toBe(status);
  });
});

describe('run page', () => {
  it('shows info, params, tags, latest metrics and a chart per metric with the chart scripts', async () => {
    const { status, text } = await page(`/runs/${firstRunId}`);
    expect(status).toBe(200);
    expect(text).toContain('run-000');
    expect(text).toContain(`href="/experiments/${experimentId}">vision-sweep`);
    expect(text).toContain(`mlflow-artifacts:/${experimentId}/${firstRunId}/artifacts`);
    expect(text).toContain('mlflow.runName');
    expect(text).toContain(`data-metric-chart="/api/v1/runs/${firstRunId}/metrics/accuracy/series"`);
    expect(text).toMatch(/<script src="\/static\/[0-9a-f]{12}\/uplot\.min\.js" defer>/);
    expect(text).toMatch(/<script src="\/static\/[0-9a-f]{12}\/charts\.js" defer>/);
  });

  it('lists the model versions registered from the run that the viewer may see, with stage, aliases and links', async () => {
    expect((await page(`/runs/${firstRunId}`)).text).not.toContain('id="model-versions"');
    await admin.ok('POST', '/registered-models/create', { name: 'vision/classifier' });
    for (let index = 0; index < 2; index++) {
      await admin.ok('POST', '/model-versions/create', { name: 'vision/classifier', source: `runs:/${firstRunId}/model`, run_id: firstRunId });
    }
    await admin.ok('POST', '/model-versions/transition-stage', { name: 'vision/classifier', version: '2', stage: 'Staging', archive_existing_versions: false });
    await admin.ok('POST', '/registered-models/alias', { name: 'vision/classifier', alias: 'candidate', version: '2' });
    await admin.ok('POST', '/registered-models/create', { name: 'secret-classifier', tags: [{ key: 'trainyard.project', value: 'secret' }] });
    await admin.ok('POST', '/model-versions/create', { name: 'secret-classifier', source: `runs:/${firstRunId}/model`, run_id: firstRunId });

    const { text } = await page(`/runs/${firstRunId}`);
    const panel = /<div class="panel" id="model-versions">[\s\S]*?<\/table>/.exec(text)![0];
    const rows = [...panel.matchAll(/<tr>\s*<td>[\s\S]*?<\/tr>/g)].map(([row]) => row);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toContain('<a href="/models/vision%2Fclassifier"><strong>vision/classifier</strong></a>');
    expect(rows[0]).toContain('<a href="/models/vision%2Fclassifier/versions/2">v2</a>');
    expect(rows[0]).toContain('<span class="badge warn">Staging</span>');
    expect(rows[0]).toContain('@candidate');
    expect(rows[1]).toContain('<a href="/models/vision%2Fclassifier/versions/1">v1</a>');
    expect(panel).not.toContain('secret-classifier');
    expect((await page(`/runs/${firstRunId}`, ADMIN)).text).toContain('secret-classifier');
  });

  it('is the only page that loads the chart library', async () => {
    expect((await page(`/experiments/${experimentId}`)).text).not.toContain('uplot');
  });

  it.each([
    ['a project the user cannot see', () => secretRunId],
    ['an unknown run', () => 'f'.repeat(32)],
  ])('is 404 for %s', async (_name, runId) => {
    expect((await page(`/runs/${runId()}`)).status).toBe(404);
  });
});

describe('metric series', () => {
  const series = (runId: string, key: string, query = '', user = viewer) =>
    page(`/api/v1/runs/${runId}/metrics/${key}/series${query}`, user, { Accept: 'application/json' });

  it('downsamples a million points to 1000 within the target, keeping the ends and the spike', async () => {
    const started = performance.now();
    const { status, text } = await series(firstRunId, 'loss');
    const elapsed = performance.now() - started;
    console.log(`series of ${POINTS} points downsampled to 1000 in ${elapsed.toFixed(0)} ms`);
    expect(status).toBe(200);
    const body = JSON.parse(text);
    expect(body.key).toBe('loss');
    expect(body.total).toBe(POINTS + 1); // the one logged through the API at step 0 too
    expect(body.steps).toHaveLength(1000);
    expect(body.values).toHaveLength(1000);
    expect(body.steps[0]).toBe(0);
    expect(body.steps.at(-1)).toBe(POINTS - 1);
    expect(body.values[body.steps.indexOf(777777)]).toBe(100);
    expect(body.steps).toEqual([...body.steps].sort((a: number, b: number) => a - b));
    expect(elapsed).toBeLessThan(1000);
  });

  it('returns every point of a short series, NaN as null, and honours points', async () => {
    expect(JSON.parse((await series(firstRunId, 'nothing')).text)).toEqual({ key: 'nothing', total: 0, steps: [], values: [] });
    const runId = await admin.createRun(experimentId);
    await admin.ok('POST', '/runs/log-batch', {
      run_id: runId,
      metrics: [0, 1, 2, 3, 4, 5].map((step) => ({ key: 'x', value: step === 1 ? 'NaN' : step * 10, timestamp: 1, step })),
    });
    expect(JSON.parse((await series(runId, 'x')).text)).toEqual({ key: 'x', total: 6, steps: [0, 1, 2, 3, 4, 5], values: [0, null, 20, 30, 40, 50] });
    const three = JSON.parse((await series(runId, 'x', '?points=3')).text);
    expect(three.steps).toHaveLength(3);
    expect(three).toMatchObject({ total: 6, steps: [0, expect.any(Number), 5] });
  });

  it.each([
    ['points=0', () => `/api/v1/runs/${firstRunId}/metrics/loss/series?points=0`, 400],
    ['points=5001', () => `/api/v1/runs/${firstRunId}/metrics/loss/series?points=5001`, 400],
    ['points=abc', () => `/api/v1/runs/${firstRunId}/metrics/loss/series?points=abc`, 400],
    ['points=-5', () => `/api/v1/runs/${firstRunId}/metrics/loss/series?points=-5`, 400],
    ['a run out of sight', () => `/api/v1/runs/${secretRunId}/metrics/loss/series`, 404],
    ['an unknown run', () => `/api/v1/runs/${'0'.repeat(32)}/metrics/loss/series`, 404],
  ])('refuses %s', async (_name, path, status) => {
    const response = await page(path(), viewer, { Accept: 'application/json' });
    expect(response.status).toBe(status);
    expect(JSON.parse(response.text).error_code).toMatch(/INVALID_PARAMETER_VALUE|RESOURCE_DOES_NOT_EXIST/);
  });

  it('needs a credential', async () => {
    expect((await t.request(`/api/v1/runs/${firstRunId}/metrics/loss/series`, { headers: { Accept: 'application/json' } })).status).toBe(401);
  });
});
