import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, createTestApp, type TestApp } from '../helpers/test-app.ts';
import { addUser, mlflowAs, type MlflowClient } from './mlflow/tracking-client.ts';

let t: TestApp;
let admin: MlflowClient;
let viewer: { username: string; password: string };
let editor: { username: string; password: string };
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
  editor = await addUser(t, 'eddie', 'editor');
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

/** What the registry holds about a model and its versions, as the MLflow API answers. */
async function stored(name: string) {
  const model = await admin.get('/registered-models/get', { name });
  const versions = await admin.get('/model-versions/search', { filter: `name = '${name}'`, order_by: 'version_number ASC' });
  return { model: model.json, versions: versions.json };
}
const versionOf = async (name: string, version: string) => (await admin.ok('GET', '/model-versions/get', { name, version })).model_version;

describe('editing a model through the forms', () => {
  beforeAll(async () => {
    await admin.ok('POST', '/registered-models/create', { name: 'team/ranker', description: 'Ranks search results' });
    for (let index = 0; index < 3; index++) {
      await admin.ok('POST', '/model-versions/create', { name: 'team/ranker', source: `runs:/${runId}/ranker`, run_id: runId });
    }
    await admin.ok('POST', '/registered-models/set-tag', { name: 'team/ranker', key: 'domain', value: 'search' });
    await admin.ok('POST', '/model-versions/set-tag', { name: 'team/ranker', version: '2', key: 'dataset', value: 'clicks-2025' });
  });

  it('shows editors the description, tag and delete forms on the model and version pages, and viewers none', async () => {
    for (const path of ['/models/team%2Franker', '/models/team%2Franker/versions/2']) {
      const asEditor = (await page(path, editor)).text;
      for (const form of ['/description"', '/tags"', '/tags/delete"', '/delete"']) expect(asEditor, `${path} ${form}`).toContain(form);
      const asViewer = await page(path);
      expect(asViewer.status).toBe(200);
      expect(asViewer.text).not.toContain('hx-post="/models');
      expect(asViewer.text).not.toContain('<details class="edit">');
    }
    expect((await page('/models/team%2Franker/versions/2', editor)).text).toContain('hx-confirm="Delete version 2 of team/ranker?');
    expect((await page('/models/team%2Franker', editor)).text).toContain('hx-confirm="Delete the model team/ranker and its 3 versions, tags and aliases?');
  });

  it("changes the model's description and answers htmx with the description and tags alone", async () => {
    const session = await t.signIn(editor);
    const answer = await post('/models/team%2Franker/description', session, { _csrf: session.csrf, description: 'Ranks results.\r\nRetrained weekly.' });
    expect(answer.status).toBe(200);
    expect(answer.text.startsWith('<div class="panel" id="model-info">')).toBe(true);
    expect(answer.text).toContain('<p class="description">Ranks results.\nRetrained weekly.</p>');
    expect((await stored('team/ranker')).model.registered_model.description).toBe('Ranks results.\nRetrained weekly.');
    const plain = await post('/models/team%2Franker/description', session, { _csrf: session.csrf, description: '' }, false);
    expect(plain.status).toBe(200);
    expect(plain.text).toContain('<!doctype html>');
    expect(plain.text).toContain('No description.');
  });

  it('sets, changes and deletes a model tag', async () => {
    const session = await t.signIn(editor);
    const tagsOf = async () => (await stored('team/ranker')).model.registered_model.tags ?? [];
    expect((await post('/models/team%2Franker/tags', session, { _csrf: session.csrf, key: 'owner/team', value: 'search' })).text).toMatch(
      /<td class="mono">owner\/team<\/td>\s*<td class="mono">search<\/td>/,
    );
    await post('/models/team%2Franker/tags', session, { _csrf: session.csrf, key: 'owner/team', value: 'relevance' });
    expect(await tagsOf()).toEqual([
      { key: 'domain', value: 'search' },
      { key: 'owner/team', value: 'relevance' },
    ]);
    const removed = await post('/models/team%2Franker/tags/delete', session, { _csrf: session.csrf, key: 'owner/team' });
    expect(removed.status).toBe(200);
    expect(removed.text).not.toContain('owner/team');
    expect(await tagsOf()).toEqual([{ key: 'domain', value: 'search' }]);
  });
});

describe('editing a version through the forms', () => {
  it('shows the version with stage, aliases, lineage, description and tags', async () => {
    t.app.registry.updateModelVersion({ user: t.app.users.get(ADMIN.username) }, { name: 'team/ranker', version: '1', description: 'First try' });
    await admin.ok('POST', '/model-versions/set-tag', { name: 'team/ranker', version: '1', key: 'dataset', value: 'clicks-2026' });
    await admin.ok('POST', '/registered-models/alias', { name: 'team/ranker', alias: 'baseline', version: '1' });
    const { status, text } = await page('/models/team%2Franker/versions/1');
    expect(status).toBe(200);
    expect(text).toContain('<a href="/models/team%2Franker">team/ranker</a> v1');
    expect(text).toContain('@baseline');
    expect(text).toContain('First try');
    expect(text).toMatch(/<td class="mono">dataset<\/td><td class="mono">clicks-2026<\/td>/);
    expect(text).toContain(`<a href="/runs/${runId}">gentle-lamb</a>`);
    expect(text).toContain(`<a href="/experiments/${experimentId}">fraud-training</a>`);
    expect((await page('/models/team%2Franker')).text).toContain('<a href="/models/team%2Franker/versions/1"><strong>v1</strong></a>');
  });

  it("changes a version's description and tags, answering htmx with the version's fragment", async () => {
    const session = await t.signIn(editor);
    const described = await post('/models/team%2Franker/versions/2/description', session, { _csrf: session.csrf, description: 'Second try' });
    expect(described.status).toBe(200);
    expect(described.text.startsWith('<div id="version-body"')).toBe(true);
    expect(described.text).toContain('Second try');
    const tagged = await post('/models/team%2Franker/versions/2/tags', session, { _csrf: session.csrf, key: 'validated', value: 'yes' });
    expect(tagged.text).toMatch(/<td class="mono">validated<\/td>\s*<td class="mono">yes<\/td>/);
    expect(await versionOf('team/ranker', '2')).toMatchObject({
      description: 'Second try',
      tags: [
        { key: 'dataset', value: 'clicks-2025' },
        { key: 'validated', value: 'yes' },
      ],
    });
    await post('/models/team%2Franker/versions/2/tags/delete', session, { _csrf: session.csrf, key: 'validated' });
    expect((await versionOf('team/ranker', '2')).tags).toEqual([{ key: 'dataset', value: 'clicks-2025' }]);
  });

  it('transitions stages, archiving the others in the stage only when asked', async () => {
    const session = await t.signIn(editor);
    const stageOf = async (version: string) => (await versionOf('team/ranker', version)).current_stage;
    const moved = await post('/models/team%2Franker/versions/1/stage', session, { _csrf: session.csrf, stage: 'Production' });
    expect(moved.status).toBe(200);
    expect(moved.text).toContain('<span class="badge ok">Production</span>');
    expect(moved.text).toContain('<option value="Production" selected>');
    await post('/models/team%2Franker/versions/2/stage', session, { _csrf: session.csrf, stage: 'Production' });
    expect([await stageOf('1'), await stageOf('2')]).toEqual(['Production', 'Production']);
    await post('/models/team%2Franker/versions/3/stage', session, { _csrf: session.csrf, stage: 'Production', archive_existing_versions: 'true' });
    expect([await stageOf('1'), await stageOf('2'), await stageOf('3')]).toEqual(['Archived', 'Archived', 'Production']);
    await post('/models/team%2Franker/versions/2/stage', session, { _csrf: session.csrf, stage: 'staging' });
    expect(await stageOf('2')).toBe('Staging');
  });

  it('deletes a version with its aliases and sends the browser back to the model', async () => {
    const session = await t.signIn(editor);
    const deleted = await post('/models/team%2Franker/versions/1/delete', session, { _csrf: session.csrf });
    expect(deleted.status).toBe(204);
    expect(deleted.headers.get('HX-Redirect')).toBe('/models/team%2Franker');
    const { versions, model } = await stored('team/ranker');
    expect(versions.model_versions.map(({ version }: { version: string }) => version)).toEqual(['2', '3']);
    expect(model.registered_model.aliases).toBeUndefined();
    expect((await page('/models/team%2Franker/versions/1')).status).toBe(404);
    const plain = await post('/models/team%2Franker/versions/2/delete', session, { _csrf: session.csrf }, false);
    expect(plain.status).toBe(303);
    expect(plain.headers.get('Location')).toBe('/models/team%2Franker');
  });
});

describe('who may edit, and bad input', () => {
  /** Every form post a model page offers, against the model 'guarded' with versions 1 and 2. */
  const WRITES: Array<[string, Record<string, string>]> = [
    ['/models/guarded/description', { description: 'taken over' }],
    ['/models/guarded/tags', { key: 'k', value: 'v' }],
    ['/models/guarded/tags/delete', { key: 'keep' }],
    ['/models/guarded/delete', {}],
    ['/models/guarded/versions/1/description', { description: 'taken over' }],
    ['/models/guarded/versions/1/tags', { key: 'k', value: 'v' }],
    ['/models/guarded/versions/1/tags/delete', { key: 'keep' }],
    ['/models/guarded/versions/1/stage', { stage: 'Production' }],
    ['/models/guarded/versions/1/delete', {}],
  ];

  beforeAll(async () => {
    await admin.ok('POST', '/registered-models/create', { name: 'guarded', description: 'As it was', tags: [{ key: 'keep', value: 'me' }] });
    for (let index = 0; index < 2; index++) await admin.ok('POST', '/model-versions/create', { name: 'guarded', source: `runs:/${runId}/g`, run_id: runId });
    await admin.ok('POST', '/model-versions/set-tag', { name: 'guarded', version: '1', key: 'keep', value: 'me' });
    await admin.ok('POST', '/model-versions/transition-stage', { name: 'guarded', version: '2', stage: 'Staging', archive_existing_versions: false });
  });

  it('refuses viewers with 403 and outsiders with 404, and needs the CSRF token, changing nothing', async () => {
    const before = await stored('guarded');
    const sessions = { viewer: await t.signIn(viewer), outsider: await t.signIn(outsider), editor: await t.signIn(editor) };
    for (const [path, fields] of WRITES) {
      const asViewer = await post(path, sessions.viewer, { _csrf: sessions.viewer.csrf, ...fields });
      expect(asViewer.status, path).toBe(403);
      expect(asViewer.headers.get('HX-Retarget'), path).toBe('#flash');
      expect((await post(path, sessions.outsider, { _csrf: sessions.outsider.csrf, ...fields })).status, path).toBe(404);
      expect((await post(path, sessions.editor, fields)).status, path).toBe(403);
    }
    expect(await stored('guarded')).toEqual(before);
  });

  it('puts bad input into the flash area with a 4xx and stores nothing', async () => {
    const session = await t.signIn(editor);
    const before = await stored('guarded');
    const cases: Array<[string, Record<string, string>, number, string]> = [
      ['/models/guarded/tags', { key: '', value: 'v' }, 400, "'key'"],
      ['/models/guarded/tags', { value: 'v' }, 400, "'key'"],
      ['/models/guarded/tags', { key: 'k'.repeat(251), value: 'v' }, 400, 'exceeds the maximum length of 250'],
      ['/models/guarded/tags', { key: 'bad\nkey', value: 'v' }, 400, 'Invalid value'],
      ['/models/guarded/tags', { key: 'k', value: 'v'.repeat(5001) }, 400, 'exceeds the maximum length'],
      ['/models/guarded/tags/delete', { key: '' }, 400, "'key'"],
      ['/models/guarded/description', {}, 400, "'description'"],
      ['/models/guarded/description', { description: 'd'.repeat(65536) }, 400, 'exceeds the maximum length'],
      ['/models/guarded/versions/99/description', { description: 'x' }, 404, 'version=99'],
      ['/models/guarded/versions/abc/tags', { key: 'k', value: 'v' }, 400, 'must be an integer'],
      ['/models/guarded/versions/99/tags', { key: 'k', value: 'v' }, 404, 'version=99'],
      ['/models/guarded/versions/1/tags', { key: '', value: 'v' }, 400, "'key'"],
      ['/models/guarded/versions/1/tags', { key: 'k'.repeat(251), value: 'v' }, 400, 'exceeds the maximum length of 250'],
      ['/models/guarded/versions/99/tags/delete', { key: 'keep' }, 404, 'version=99'],
      ['/models/guarded/versions/1/stage', { stage: 'Shipped' }, 400, 'Invalid Model Version stage'],
      ['/models/guarded/versions/1/stage', {}, 400, "'stage'"],
      ['/models/guarded/versions/1/stage', { stage: 'None', archive_existing_versions: 'true' }, 400, 'not an Active stage'],
      ['/models/guarded/versions/1/stage', { stage: 'Production', archive_existing_versions: 'yes' }, 400, 'archive_existing_versions'],
      ['/models/guarded/versions/99/stage', { stage: 'Production' }, 404, 'version=99'],
      ['/models/guarded/versions/99/delete', {}, 404, 'version=99'],
      ['/models/no-such-model/description', { description: 'x' }, 404, 'no-such-model'],
      ['/models/no-such-model/delete', {}, 404, 'no-such-model'],
      ['/models/no-such-model/versions/1/stage', { stage: 'Production' }, 404, 'no-such-model'],
    ];
    for (const [path, fields, status, message] of cases) {
      const answer = await post(path, session, { _csrf: session.csrf, ...fields });
      const label = `${path} ${JSON.stringify(fields).slice(0, 80)}`;
      expect(answer.status, label).toBe(status);
      expect(answer.headers.get('HX-Retarget'), label).toBe('#flash');
      expect(answer.text, label).toContain('class="flash error"');
      expect(answer.text.replaceAll('&#39;', "'"), label).toContain(message);
    }
    expect(await stored('guarded')).toEqual(before);
  });

  it('deletes the model after a confirmation, sends the browser to the list, records it, and then answers 404', async () => {
    const session = await t.signIn(editor);
    const deleted = await post('/models/guarded/delete', session, { _csrf: session.csrf });
    expect(deleted.status).toBe(204);
    expect(deleted.headers.get('HX-Redirect')).toBe('/models');
    expect((await admin.get('/registered-models/get', { name: 'guarded' })).status).toBe(404);
    expect(t.app.audit.list({ limit: 5 })).toContainEqual(expect.objectContaining({ actor: editor.username, action: 'model.delete', target: 'guarded' }));
    for (const [path, fields] of WRITES) {
      const answer = await post(path, session, { _csrf: session.csrf, ...fields });
      expect(answer.status, path).toBe(404);
      expect(answer.text, path).toContain('guarded');
    }
    expect((await page('/models/guarded/versions/1')).status).toBe(404);
    expect(modelLinks((await page('/models?filter=guarded')).text)).toEqual([]);
  });

  it('answers a plain form post that deletes a model with a redirect to the list', async () => {
    await admin.ok('POST', '/registered-models/create', { name: 'short-lived' });
    const session = await t.signIn(ADMIN);
    const deleted = await post('/models/short-lived/delete', session, { _csrf: session.csrf }, false);
    expect(deleted.status).toBe(303);
    expect(deleted.headers.get('Location')).toBe('/models');
  });
});
