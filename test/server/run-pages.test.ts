import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, createTestApp, type TestApp } from '../helpers/test-app.ts';
import { addUser, mlflowAs } from './mlflow/tracking-client.ts';

let t: TestApp;
let viewer: { username: string; password: string };
let experimentId: string;
let runId: string;
let secretRunId: string;

const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
const BIG_LOG = 'x'.repeat(300 * 1024 - 3) + 'END';

const page = async (path: string, headers: Record<string, string> = {}, user = viewer) => {
  const response = await t.request(path, { headers: { Authorization: t.basic(user), ...headers } });
  return { status: response.status, headers: response.headers, body: Buffer.from(await response.arrayBuffer()) };
};
const text = async (path: string, headers: Record<string, string> = {}) => {
  const answer = await page(path, headers);
  return { ...answer, text: answer.body.toString() };
};
const htmx = { 'HX-Request': 'true' };
const q = (path: string) => `?path=${encodeURIComponent(path)}`;

async function putArtifact(experiment: string, run: string, path: string, body: string | Buffer) {
  const response = await t.request(`/api/2.0/mlflow-artifacts/artifacts/${experiment}/${run}/artifacts/${path}`, {
    method: 'PUT',
    headers: { Authorization: t.basic(ADMIN), 'Content-Type': 'application/octet-stream' },
    body,
  });
  expect(response.status, await response.text()).toBe(200);
}

beforeAll(async () => {
  t = await createTestApp();
  const admin = mlflowAs(t, ADMIN);
  viewer = await addUser(t, 'val', 'viewer');
  t.app.projects.create({ name: 'secret', description: '' }, { actor: 'test' });
  experimentId = await admin.createExperiment('artifact-sweep');
  runId = await admin.createRun(experimentId, { run_name: 'with-artifacts' });
  const files: Array<[string, string | Buffer]> = [
    ['notes.txt', 'first line\n<script>alert(1)</script>\n'],
    ['model/MLmodel', 'flavors:\n  python_function: {}\n'],
    ['model/model.pkl', Buffer.from([0x80, 0x04, 0x95, 0x00])],
    ['model/data/weights.json', '{"w": [1, 2]}'],
    ['plots/loss.png', PNG],
    ['plots/curve.svg', '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'],
    ['page.html', '<h1>hi</h1>'],
    ['logs/train.log', BIG_LOG],
  ];
  for (const [path, body] of files) await putArtifact(experimentId, runId, path, body);
  symlinkSync('/etc', join(t.app.artifacts.root, experimentId, runId, 'artifacts', 'escape'));
  const secretExperiment = await admin.createExperiment('secret-sweep', [{ key: 'trainyard.project', value: 'secret' }]);
  secretRunId = await admin.createRun(secretExperiment);
  await putArtifact(secretExperiment, secretRunId, 'secret.txt', 'classified');
});

describe('artifact listing', () => {
  it('shows the root folder on the run page: folders first as links, files with size and download link', async () => {
    const { status, text: body } = await text(`/runs/${runId}`);
    expect(status).toBe(200);
    expect(body).toContain('<div id="artifacts">');
    expect(body).toContain(`hx-get="/runs/${runId}/artifacts?path=model" hx-target="#artifacts"`);
    expect(body).toContain('>model/</a>');
    expect(body).toContain(`hx-get="/runs/${runId}/artifacts/preview?path=notes.txt" hx-target="#artifact-preview"`);
    expect(body).toContain(`href="/runs/${runId}/artifacts/raw?path=notes.txt" download`);
    expect(body).toContain('>37 B<');
    expect(body).not.toContain('train.log');
    expect(body.indexOf('>plots/<')).toBeLessThan(body.indexOf('>notes.txt<'));
    expect(body).not.toContain('escape'); // the planted link is no file and no folder
    expect(body).toContain('Choose a file to preview it.');
  });

  it('answers htmx with the folder fragment alone, and a plain request with the whole run page', async () => {
    const fragment = await text(`/runs/${runId}/artifacts${q('model')}`, htmx);
    expect(fragment.status).toBe(200);
    expect(fragment.text.startsWith('<div id="artifacts">')).toBe(true);
    expect(fragment.text).toContain('>MLmodel</a>');
    expect(fragment.text).toContain('>4 B<');
    expect(fragment.text).toContain('>model.pkl</a>');
    expect(fragment.text).toContain(`hx-get="/runs/${runId}/artifacts?path=model%2Fdata"`);
    expect(fragment.text).not.toContain('notes.txt');
    const full = await text(`/runs/${runId}/artifacts${q('model/data/')}`);
    expect(full.status).toBe(200);
    expect(full.text).toMatch(/^<!doctype html>/);
    expect(full.text).toContain('with-artifacts');
    expect(full.text).toContain('>weights.json</a>');
    expect(full.text).toContain(`<a href="/runs/${runId}/artifacts?path=model" hx-get`); // the breadcrumb back up
  });

  it('says so for an empty or missing folder', async () => {
    expect((await text(`/runs/${runId}/artifacts${q('nothing/here')}`, htmx)).text).toContain('This folder is empty.');
  });
});

describe('artifact preview', () => {
  it('shows a text file escaped in a <pre>, as a fragment or inside the run page at its folder', async () => {
    const fragment = await text(`/runs/${runId}/artifacts/preview${q('notes.txt')}`, htmx);
    expect(fragment.status).toBe(200);
    expect(fragment.text.startsWith('<div id="artifact-preview"')).toBe(true);
    expect(fragment.text).toContain('<pre class="preview">first line\n&lt;script&gt;alert(1)&lt;/script&gt;\n</pre>');
    expect(fragment.text).not.toContain('truncated');
    const full = await text(`/runs/${runId}/artifacts/preview${q('model/MLmodel')}`);
    expect(full.text).toMatch(/^<!doctype html>/);
    expect(full.text).toContain('python_function');
    expect(full.text).toContain('>model.pkl</a>'); // the listing of the file's folder
  });

  it('shows the first 256 KB of a large text file and says the rest was left out', async () => {
    const { text: body } = await text(`/runs/${runId}/artifacts/preview${q('logs/train.log')}`, htmx);
    const shown = /<pre class="preview">(x*)<\/pre>/.exec(body)?.[1];
    expect(shown).toHaveLength(256 * 1024);
    expect(body).not.toContain('END');
    expect(body).toContain('Showing the first 256.0 KB of 300.0 KB');
  });

  it('shows images through the raw route and offers only a download for other files', async () => {
    const png = await text(`/runs/${runId}/artifacts/preview${q('plots/loss.png')}`, htmx);
    expect(png.text).toContain(`<img class="preview" src="/runs/${runId}/artifacts/raw?path=plots%2Floss.png"`);
    const svg = await text(`/runs/${runId}/artifacts/preview${q('plots/curve.svg')}`, htmx);
    expect(svg.text).toContain('<img class="preview"');
    expect(svg.text).not.toContain('<script>');
    const binary = await text(`/runs/${runId}/artifacts/preview${q('model/model.pkl')}`, htmx);
    expect(binary.text).toContain('No preview for this kind of file.');
    expect(binary.text).toContain(`href="/runs/${runId}/artifacts/raw?path=model%2Fmodel.pkl" download`);
  });
});

describe('raw artifacts', () => {
  it.each([
    ['plots/loss.png', 'image/png', /^inline$/],
    ['plots/curve.svg', 'image/svg+xml', /^attachment; filename="curve.svg"/],
    ['notes.txt', 'text/plain', /^attachment; filename="notes.txt"/],
    ['page.html', 'text/html', /^attachment/],
    ['model/model.pkl', 'application/octet-stream', /^attachment/],
  ])('serves %s as %s with a fitting disposition', async (path, type, disposition) => {
    const { status, headers, body } = await page(`/runs/${runId}/artifacts/raw${q(path)}`);
    expect(status).toBe(200);
    expect(headers.get('content-type')).toBe(type);
    expect(headers.get('content-disposition')).toMatch(disposition);
    expect(headers.get('x-content-type-options')).toBe('nosniff');
    if (path === 'plots/loss.png') expect(body.equals(PNG)).toBe(true);
  });

  it('streams a large file whole', async () => {
    const { body, headers } = await page(`/runs/${runId}/artifacts/raw${q('logs/train.log')}`);
    expect(headers.get('content-length')).toBe(String(BIG_LOG.length));
    expect(body.toString()).toBe(BIG_LOG);
  });
});

describe('refusals', () => {
  const routes = ['/artifacts', '/artifacts/preview', '/artifacts/raw'];

  it.each([
    ['..', '..'],
    ['a climb out of the run', 'model/../../other'],
    ['an absolute path', '/etc/passwd'],
    ['an encoded separator', '..%2F..%2Fetc'],
    ['a backslash', 'model\\MLmodel'],
    ['a NUL', 'notes.txt\u0000'],
    ['a symbolic link', 'escape'],
    ['a path through a symbolic link', 'escape/passwd'],
  ])('answers 400 to %s on every artifact route', async (_name, path) => {
    for (const route of routes) {
      const { status, text: body } = await text(`/runs/${runId}${route}${q(path)}`, htmx);
      expect(status, `${route} ${path}`).toBe(400);
      expect(body).toContain('flash error');
    }
  });

  it.each([
    ['a missing file', 'nothing.txt', 404],
    ['a folder', 'model', 400],
    ['no path at all', '', 400],
  ])('refuses to preview or download %s', async (_name, path, status) => {
    for (const route of ['/artifacts/preview', '/artifacts/raw']) expect((await page(`/runs/${runId}${route}${q(path)}`)).status).toBe(status);
  });

  it('is 404 for a run in a project the user cannot see, and for an unknown run', async () => {
    for (const id of [secretRunId, 'f'.repeat(32)]) {
      for (const route of ['', ...routes]) {
        const { status, body } = await page(`/runs/${id}${route}${q('secret.txt')}`);
        expect(status, `${route} ${id}`).toBe(404);
        expect(body.toString()).not.toContain('classified');
      }
    }
  });
});
