import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, createTestApp, type TestApp } from '../helpers/test-app.ts';
import { addUser, mlflowAs, type MlflowClient } from './mlflow/tracking-client.ts';

let t: TestApp;
let admin: MlflowClient;
let viewer: { username: string; password: string };
let outsider: { username: string; password: string };
let runId: string;
let experimentId: string;

const BULK_MODELS = 55;

const page = (path: string, user = viewer, headers: Record<string, string> = {}) => t.get(path, user, headers);
const modelLinks = (text: string) => [...text.matchAll(/href="\/models\/([^"?]+)"/g)].map((match) => decodeURIComponent(match[1]!));

/** A form post as the browser sends it: session cookie, the CSRF field, and htmx's header unless told otherwise. */
async function post(path: string, session: { cookie: string; csrf: string }, fields: Record<string, string>, htmx = true) {
  const response = await t.request(path, {
    method: 'POST',
    headers: { Cookie: session.cookie, ...(htmx && { 'HX-Request': 'true' }) },
    body: new URLSearchParams(fields),
  });
  return { status: response.status, text: await response.text(), headers: response.headers };
}
const aliasesOf = async (name: string) => (await admin.ok('GET', '/registered-models/get', { name })).registered_model.aliases ?? [];

beforeAll(async () => {
  t = await createTestApp();
  admin = mlflowAs(t, ADMIN);
  viewer = await addUser(t, 'val', 'viewer');
  outsider = await addUser(t, 'otto', undefined);
  t.app.projects.create({ name: 'secret', description: '' }, { actor: 'test' });
  experimentId = await admin.createExperiment('fraud-training');
  runId = await admin.createRun(experimentId, { run_name: 'gentle-lamb' });
  await admin.ok('POST', '/registered-models/create', { name: 'fraud-detector', description: 'Scores card payments' });
  for (let index = 0; index < 2; index++) {
    t.clock.advance(1000);
    await admin.ok('POST', '/model-versions/create', { name: 'fraud-detector', source: `runs:/${runId}/model`, run_id: runId });
  }
  await admin.ok('POST', '/registered-models/create', {
    name: 'secret-model',
    tags: [{ key: 'trainyard.project', value: 'secret' }],
  });
  for (let index = 0; index < BULK_MODELS; index++) {
    await admin.ok('POST', '/registered-models/create', { name: `bulk-${String(index).padStart(2, '0')}` });
  }
});

describe('models list', () => {
  it('shows the models a viewer can see with project, latest version and aliases, and hides the rest', async () => {
    await admin.ok('POST', '/registered-models/alias', { name: 'fraud-detector', alias: 'prod', version: '1' });
    const { status, text } = await page('/models?filter=fraud');
    expect(status).toBe(200);
    expect(modelLinks(text)).toEqual(['fraud-detector']);
    const row = /<tr>\s*<td><a href="\/models\/fraud-detector">[\s\S]*?<\/tr>/.exec(text)![0];
    expect(row).toContain('>default</a>');
    expect(row).toContain('v2');
    expect(row).toContain('@prod');
    expect(row).toContain('Scores card payments');
    expect(text).toContain('class="active">Models</a>');
    expect(modelLinks((await page('/models?filter=secret')).text)).toEqual([]);
    expect(modelLinks((await page('/models?filter=secret', ADMIN)).text)).toEqual(['secret-model']);
  });

  it('filters by part of the name, case-insensitively, through htmx as a fragment', async () => {
    const { status, text } = await page('/models?filter=BULK-0', viewer, { 'HX-Request': 'true' });
    expect(status).toBe(200);
    expect(text.startsWith('<div id="models">')).toBe(true);
    expect(modelLinks(text)).toEqual(Array.from({ length: 10 }, (_, index) => `bulk-0${index}`));
  });

  it('takes quotes and wildcards in the filter box as text, and shows that nothing matches', async () => {
    for (const filter of ["o'brien", 'back\\slash', '"', 'zzz']) {
      const { status, text } = await page(`/models?filter=${encodeURIComponent(filter)}`);
      expect(status, filter).toBe(200);
      expect(text).toContain('No models match.');
    }
  });

  it('pages by page token, with links both ways that keep the filter', async () => {
    const first = await page('/models?filter=bulk');
    expect(modelLinks(first.text)).toHaveLength(50);
    const next = /href="(\/models\?filter=bulk&amp;page_token=[^"]+)">Next/.exec(first.text)?.[1]?.replaceAll('&amp;', '&');
    expect(next).toBeDefined();
    expect(first.text).not.toContain('Previous');
    const second = await page(next!);
    expect(modelLinks(second.text)).toEqual(Array.from({ length: 5 }, (_, index) => `bulk-${50 + index}`));
    expect(second.text).toContain('href="/models?filter=bulk">← Previous');
    expect(second.text).not.toContain('Next →');
  });

  it('answers a bad page token with 400, not a 500', async () => {
    expect((await page('/models?page_token=%%%')).status).toBe(400);
    expect((await page('/models?page_token=bm9wZQ==')).status).toBe(400);
  });
});

describe('model page', () => {
  it('shows description, tags, aliases and the versions newest first with lineage back to the run', async () => {
    await admin.ok('POST', '/registered-models/set-tag', { name: 'fraud-detector', key: 'team', value: 'risk' });
    const { status, text } = await page('/models/fraud-detector');
    expect(status).toBe(200);
    expect(text).toContain('Scores card payments');
    expect(text).toMatch(/<td class="mono">team<\/td><td class="mono">risk<\/td>/);
    expect([...text.matchAll(/<strong>v(\d+)<\/strong>/g)].map((match) => match[1])).toEqual(['2', '1']);
    expect(text).toContain(`<a href="/runs/${runId}">gentle-lamb</a>`);
    expect(text).toContain(`<a href="/experiments/${experimentId}">fraud-training</a>`);
    expect(text).toContain(`runs:/${runId}/model`);
  });

  it('shows viewers no forms', async () => {
    const { text } = await page('/models/fraud-detector');
    expect(text).not.toContain('/aliases"');
    expect(text).not.toContain('/delete"');
    expect((await page('/models/fraud-detector', ADMIN)).text).toContain('action="/models/fraud-detector/aliases"');
  });

  it('answers 404 for a model in a project the viewer cannot see, or none at all', async () => {
    for (const [path, user] of [
      ['/models/secret-model', viewer],
      ['/models/fraud-detector', outsider],
      ['/models/no-such-model', ADMIN],
    ] as const) {
      const { status, text } = await page(path, user);
      expect(status, path).toBe(404);
      expect(text).not.toContain('/projects/');
    }
  });

  it('shows versions whose run is gone or hidden without lineage, and the logged model of MLflow 3 versions', async () => {
    const hiddenExperiment = await admin.createExperiment('hidden-training', [{ key: 'trainyard.project', value: 'secret' }]);
    const hiddenRun = await admin.createRun(hiddenExperiment, { run_name: 'hidden-run' });
    const logged = await admin.ok('POST', '/logged-models', { experiment_id: experimentId, name: 'net', source_run_id: runId });
    const modelId = logged.model.info.model_id;
    await admin.ok('POST', '/registered-models/create', { name: 'mixed-lineage' });
    await admin.ok('POST', '/model-versions/create', { name: 'mixed-lineage', source: `runs:/${hiddenRun}/model`, run_id: hiddenRun });
    await admin.ok('POST', '/model-versions/create', { name: 'mixed-lineage', source: `models:/${modelId}`, run_id: runId, model_id: modelId });
    const { status, text } = await page('/models/mixed-lineage');
    expect(status).toBe(200);
    expect(text).toContain(`<a href="/runs/${hiddenRun}"><span class="mono">${hiddenRun}</span></a>`);
    expect(text).not.toContain('hidden-training');
    expect(text).toContain(`<td class="mono">${modelId}</td>`);
  });
});

describe('aliases through the form', () => {
  it('sets, moves and deletes an alias, answering htmx with the aliases and versions', async () => {
    const session = await t.signIn(ADMIN);
    const set = await post('/models/fraud-detector/aliases', session, { _csrf: session.csrf, alias: 'champion', version: '1' });
    expect(set.status).toBe(200);
    expect(set.text.startsWith('<div id="model-body">')).toBe(true);
    expect(set.text).toMatch(/@champion<\/span><\/td>\s*<td class="mono">v1</);
    expect(await aliasesOf('fraud-detector')).toContainEqual({ alias: 'champion', version: '1' });

    const moved = await post('/models/fraud-detector/aliases', session, { _csrf: session.csrf, alias: 'champion', version: '2' });
    expect(moved.text).toMatch(/@champion<\/span><\/td>\s*<td class="mono">v2</);
    expect(await aliasesOf('fraud-detector')).toContainEqual({ alias: 'champion', version: '2' });

    const removed = await post('/models/fraud-detector/aliases/champion/delete', session, { _csrf: session.csrf });
    expect(removed.status).toBe(200);
    expect(removed.text).not.toContain('@champion');
    expect(await aliasesOf('fraud-detector')).not.toContainEqual(expect.objectContaining({ alias: 'champion' }));
  });

  it('answers a plain form post with the whole page', async () => {
    const session = await t.signIn(ADMIN);
    const set = await post('/models/fraud-detector/aliases', session, { _csrf: session.csrf, alias: 'canary', version: '2' }, false);
    expect(set.status).toBe(200);
    expect(set.text).toContain('<!doctype html>');
    expect(set.text).toContain('@canary');
    await post('/models/fraud-detector/aliases/canary/delete', session, { _csrf: session.csrf });
  });

  it('refuses a post without the CSRF token', async () => {
    const session = await t.signIn(ADMIN);
    const { status } = await post('/models/fraud-detector/aliases', session, { alias: 'sneaky', version: '1' });
    expect(status).toBe(403);
    expect(await aliasesOf('fraud-detector')).not.toContainEqual(expect.objectContaining({ alias: 'sneaky' }));
  });

  it('refuses viewers with 403 and outsiders with 404, changing nothing', async () => {
    for (const [user, expected] of [
      [viewer, 403],
      [outsider, 404],
    ] as const) {
      const session = await t.signIn(user);
      const set = await post('/models/fraud-detector/aliases', session, { _csrf: session.csrf, alias: 'mine', version: '1' });
      expect(set.status, user.username).toBe(expected);
      const removed = await post('/models/fraud-detector/aliases/prod/delete', session, { _csrf: session.csrf });
      expect(removed.status, user.username).toBe(expected);
    }
    const aliases = await aliasesOf('fraud-detector');
    expect(aliases).toContainEqual({ alias: 'prod', version: '1' });
    expect(aliases).not.toContainEqual(expect.objectContaining({ alias: 'mine' }));
  });

  it('puts bad input into the flash area and stores nothing', async () => {
    const session = await t.signIn(ADMIN);
    for (const [fields, status, message] of [
      [{ alias: 'bad alias!', version: '1' }, 400, 'Invalid alias name'],
      [{ alias: 'latest', version: '1' }, 400, 'reserved'],
      [{ alias: 'v3', version: '1' }, 400, 'reserved'],
      [{ alias: '', version: '1' }, 400, 'cannot be empty'],
      [{ alias: 'ghost', version: '99' }, 404, 'version=99'],
      [{ alias: 'ghost', version: 'abc' }, 400, ''],
      [{ alias: 'ghost' }, 400, ''],
    ] as const) {
      const answer = await post('/models/fraud-detector/aliases', session, { _csrf: session.csrf, ...fields });
      expect(answer.status, JSON.stringify(fields)).toBe(status);
      expect(answer.headers.get('HX-Retarget')).toBe('#flash');
      expect(answer.text).toContain('class="flash error"');
      expect(answer.text).toContain(message);
    }
    const aliases = (await aliasesOf('fraud-detector')).map(({ alias }: { alias: string }) => alias);
    expect(aliases).toEqual(['prod']);
  });
});
