import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, createTestApp, type TestApp } from '../helpers/test-app.ts';
import { addUser, mlflowAs, type MlflowClient } from './mlflow/tracking-client.ts';

let t: TestApp;
let admin: MlflowClient;
let viewer: { username: string; password: string };
let experimentId: string;
let runIds: string[];
let otherRunId: string;
let secretExperimentId: string;
let secretRunId: string;

const page = (path: string) => t.get(path, viewer);
const compareUrl = (ids: string[], metric?: string, experiment = experimentId) => {
  const query = new URLSearchParams(ids.map((id): [string, string] => ['runs', id]));
  if (metric !== undefined) query.set('metric', metric);
  return `/experiments/${experiment}/compare?${query}`;
};
/** The series each chart line loads, from the escaped JSON in data-compare-chart. */
const chartLines = (text: string) => JSON.parse(/data-compare-chart="([^"]*)"/.exec(text)![1]!.replaceAll('&quot;', '"'));

beforeAll(async () => {
  t = await createTestApp();
  admin = mlflowAs(t, ADMIN);
  viewer = await addUser(t, 'val', 'viewer');
  t.app.projects.create({ name: 'secret', description: '' }, { actor: 'test' });
  experimentId = await admin.createExperiment('compare-sweep');
  runIds = [];
  for (const [index, lr] of ['0.1', '0.01', '0.01'].entries()) {
    const runId = await admin.createRun(experimentId, { run_name: `sweep-${index}` });
    await admin.ok('POST', '/runs/log-batch', {
      run_id: runId,
      params: [{ key: 'lr', value: lr }, { key: 'batch_size', value: '64' }],
      metrics: [0, 1, 2].flatMap((step) => [
        { key: 'loss', value: 1 / (step + 1 + index), timestamp: 1, step },
        ...(index === 0 ? [] : [{ key: 'accuracy', value: 0.5 + step / 10, timestamp: 1, step }]),
      ]),
    });
    runIds.push(runId);
  }
  otherRunId = await admin.createRun(await admin.createExperiment('elsewhere'));
  secretExperimentId = await admin.createExperiment('secret-sweep', [{ key: 'trainyard.project', value: 'secret' }]);
  secretRunId = await admin.createRun(secretExperimentId);
});

describe('experiment page', () => {
  it('has a checkbox per run and a Compare form that sends them', async () => {
    const { text } = await page(`/experiments/${experimentId}`);
    expect(text).toContain(`<form id="compare" class="inline compare-form" method="get" action="/experiments/${experimentId}/compare">`);
    for (const runId of runIds) expect(text).toContain(`<input type="checkbox" name="runs" value="${runId}" form="compare"`);
  });
});

describe('compare page', () => {
  it('shows the runs side by side, highlights the params and metrics that differ, and charts the first metric', async () => {
    const { status, text } = await page(compareUrl(runIds));
    expect(status).toBe(200);
    expect(text).toContain('Compare 3 runs');
    for (const [index, runId] of runIds.entries()) expect(text).toContain(`<a href="/runs/${runId}">sweep-${index}</a>`);
    expect(text).toContain('<tr class="differs"><td class="mono">lr</td><td class="mono">0.1</td><td class="mono">0.01</td><td class="mono">0.01</td></tr>');
    expect(text).toContain('<tr class=""><td class="mono">batch_size</td>');
    // The latest loss differs per run; sweep-0 has no accuracy at all.
    expect(text).toContain('<tr class="differs"><td class="mono">accuracy</td><td class="mono"></td><td class="mono">0.7</td><td class="mono">0.7</td></tr>');
    expect(text).toContain('<option value="accuracy" selected>accuracy</option>');
    expect(chartLines(text)).toEqual(
      runIds.map((runId, index) => ({ label: `sweep-${index}`, url: `/api/v1/runs/${runId}/metrics/accuracy/series` })),
    );
    expect(text).toMatch(/<script src="\/static\/[0-9a-f]{12}\/charts\.js" defer>/);
  });

  it('charts the metric the selector names, keeping the runs in the form', async () => {
    const { status, text } = await page(compareUrl(runIds.slice(0, 2), 'loss'));
    expect(status).toBe(200);
    expect(text).toContain('<option value="loss" selected>loss</option>');
    expect(chartLines(text).map((line: { url: string }) => line.url)).toEqual(runIds.slice(0, 2).map((id) => `/api/v1/runs/${id}/metrics/loss/series`));
    for (const runId of runIds.slice(0, 2)) expect(text).toContain(`<input type="hidden" name="runs" value="${runId}">`);
    expect(text).not.toContain(`value="${runIds[2]}"`);
  });

  it('counts a run ticked twice once', async () => {
    expect((await page(compareUrl([runIds[0]!, runIds[0]!]))).status).toBe(400);
  });

  it('refuses more than ten runs with a message', async () => {
    const many = [...runIds];
    while (many.length < 11) many.push(await admin.createRun(experimentId));
    const { status, text } = await page(compareUrl(many));
    expect(status).toBe(400);
    expect(text).toContain('Compare at most 10 runs at a time; 11 were selected');
    expect((await page(compareUrl(many.slice(0, 10)))).status).toBe(200);
  });

  it.each([
    ['no runs', () => compareUrl([]), 400],
    ['one run', () => compareUrl([runIds[0]!]), 400],
    ['a metric none of the runs has', () => compareUrl(runIds, 'nope'), 400],
    ['a run of another experiment', () => compareUrl([runIds[0]!, otherRunId]), 400],
    ['a malformed run id', () => compareUrl([runIds[0]!, 'zzz']), 404],
    ['a run out of sight', () => compareUrl([runIds[0]!, secretRunId]), 404],
    ['an experiment out of sight', () => compareUrl([secretRunId, secretRunId], undefined, secretExperimentId), 404],
    ['an unknown experiment', () => compareUrl(runIds, undefined, '9999'), 404],
  ])('refuses %s', async (_name, path, status) => {
    expect((await page(path())).status).toBe(status);
  });
});
