import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScenarios } from '../../helpers/scenarios.ts';
import { ADMIN, type TestApp } from '../../helpers/test-app.ts';
import { API, MINE, RUN, RUN_ROOT, SECRET, SHARED, createArtifactWorld, type ArtifactWorld } from './artifact-world.ts';

let world: ArtifactWorld;
let t: TestApp;
let outside: string;
const admin = () => world.admin();
const member = () => world.member();
const storeFile = (path: string) => world.storeFile(path);
const put = (path: string, body: string | Uint8Array, headers = admin()) => world.put(path, body, headers);

beforeAll(async () => {
  world = await createArtifactWorld();
  ({ t, outside } = world);
});

describe('upload, list, download, delete as the MLflow client does them', () => {
  it('stores what the recordings upload and lists it as MLflow does', async () => {
    for (const [path, body] of [
      ['hello.txt', 'hello artifact\n'],
      ['sub/dir/hello.txt', 'hello artifact\n'],
      ['cfg.json', '{\n  "k": [\n    1,\n    2,\n    3\n  ]\n}'],
      ['notes/readme.txt', 'some text'],
    ] as const) {
      const response = await put(`${RUN_ROOT}/${path}`, body);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({});
    }
    const list = await t.request(`${API}?path=${encodeURIComponent(RUN_ROOT)}`, { headers: admin() });
    expect(await list.json()).toEqual({
      files: [
        { path: 'cfg.json', is_dir: false, file_size: 36 },
        { path: 'hello.txt', is_dir: false, file_size: 15 },
        { path: 'notes', is_dir: true },
        { path: 'sub', is_dir: true },
      ],
    });
    const nested = await t.request(`${API}?path=${encodeURIComponent(`${RUN_ROOT}/sub/dir`)}`, { headers: admin() });
    expect(await nested.json()).toEqual({ files: [{ path: 'hello.txt', is_dir: false, file_size: 15 }] });
  });

  it('answers {} for a file, a missing folder and a trailing slash on an empty one', async () => {
    for (const path of [`${RUN_ROOT}/hello.txt`, `${RUN_ROOT}/nope`, `${MINE}/${'b'.repeat(32)}/artifacts/`]) {
      const response = await t.request(`${API}?path=${encodeURIComponent(path)}`, { headers: admin() });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({});
    }
  });

  it('streams files back with MLflow content types, also under /ajax-api', async () => {
    const binary = new Uint8Array(70_000).map((_, index) => index % 251);
    expect((await put(`${RUN_ROOT}/model/model.pkl`, binary)).status).toBe(200);
    expect((await put(`${RUN_ROOT}/model/MLmodel`, 'artifact_path: model\n')).status).toBe(200);
    expect((await put(`${RUN_ROOT}/plots/loss curve.png`, 'png')).status).toBe(200);

    const text = await t.request(`${API}/${RUN_ROOT}/hello.txt`, { headers: admin() });
    expect(text.headers.get('content-type')).toBe('text/plain');
    expect(text.headers.get('content-length')).toBe('15');
    expect(text.headers.get('content-disposition')).toBe(`attachment; filename="hello.txt"; filename*=UTF-8''hello.txt`);
    expect(await text.text()).toBe('hello artifact\n');

    const model = await t.request(`/ajax-api/2.0/mlflow-artifacts/artifacts/${RUN_ROOT}/model/model.pkl`, { headers: admin() });
    expect(model.headers.get('content-type')).toBe('application/octet-stream');
    expect(new Uint8Array(await model.arrayBuffer())).toEqual(binary);
    expect((await t.request(`${API}/${RUN_ROOT}/model/MLmodel`, { headers: admin() })).headers.get('content-type')).toBe('text/plain');
    const image = await t.request(`${API}/${RUN_ROOT}/plots/loss%20curve.png`, { headers: admin() });
    expect(image.headers.get('content-type')).toBe('image/png');
    expect(await image.text()).toBe('png');
  });

  it('streams uploads past the JSON body limit', async () => {
    const big = new Uint8Array(200_000).fill(7);
    expect((await put(`${RUN_ROOT}/big.bin`, big)).status).toBe(200);
    expect(readFileSync(storeFile(`${RUN_ROOT}/big.bin`))).toHaveLength(200_000);
  });

  it('replaces a file on a second upload', async () => {
    await put(`${RUN_ROOT}/replace.txt`, 'first version');
    await put(`${RUN_ROOT}/replace.txt`, 'second');
    expect(readFileSync(storeFile(`${RUN_ROOT}/replace.txt`), 'utf8')).toBe('second');
  });

  it('deletes files and folders, and nothing when there is nothing', async () => {
    await put(`${RUN_ROOT}/trash/a.txt`, 'a');
    await put(`${RUN_ROOT}/trash/b.txt`, 'b');
    const file = await t.request(`${API}/${RUN_ROOT}/trash/a.txt`, { method: 'DELETE', headers: admin() });
    expect(file.status).toBe(200);
    expect(existsSync(storeFile(`${RUN_ROOT}/trash/a.txt`))).toBe(false);
    expect((await t.request(`${API}/${RUN_ROOT}/trash`, { method: 'DELETE', headers: admin() })).status).toBe(200);
    expect(existsSync(storeFile(`${RUN_ROOT}/trash`))).toBe(false);
    expect((await t.request(`${API}/${RUN_ROOT}/trash`, { method: 'DELETE', headers: admin() })).status).toBe(200);
  });

  it('lists at the root only the experiments the caller may see', async () => {
    const forMember = await (await t.request(API, { headers: member() })).json();
    expect(forMember).toEqual({ files: [{ path: String(MINE), is_dir: true }, { path: String(SHARED), is_dir: true }] });
    const forAdmin = (await (await t.request(`${API}?path=`, { headers: admin() })).json()) as { files: Array<{ path: string }> };
    expect(forAdmin.files.map((file) => file.path)).toEqual([String(MINE), String(SECRET), String(SHARED)]);
  });
});

describe('roles and unknown experiments', () => {
  runScenarios(() => t, [
    { name: 'anonymous callers download nothing', path: `${API}/${SHARED}/r/shared.txt`, status: 401, json: { error_code: 'UNAUTHENTICATED' } },
    { name: 'anonymous callers list nothing', path: `${API}?path=${SHARED}`, status: 401 },
    { name: 'anonymous callers upload nothing', method: 'PUT', path: `${API}/${SHARED}/r/x.txt`, body: 'x', status: 401 },
  ]);

  it('applies the caller’s role in the experiment’s project', async () => {
    const cases: Array<[string, RequestInit, number, string?]> = [
      [`${API}/${SHARED}/r/shared.txt`, { headers: member() }, 200],
      [`${API}?path=${SHARED}/r`, { headers: member() }, 200],
      [`${API}/${SHARED}/r/new.txt`, { method: 'PUT', headers: member(), body: 'x' }, 403, 'PERMISSION_DENIED'],
      [`${API}/${SHARED}/r/shared.txt`, { method: 'DELETE', headers: member() }, 403, 'PERMISSION_DENIED'],
      [`${API}/${SECRET}/r/hidden.txt`, { headers: member() }, 404, 'RESOURCE_DOES_NOT_EXIST'],
      [`${API}?path=${SECRET}/r`, { headers: member() }, 404, 'RESOURCE_DOES_NOT_EXIST'],
      [`${API}/${SECRET}/r/new.txt`, { method: 'PUT', headers: member(), body: 'x' }, 404, 'RESOURCE_DOES_NOT_EXIST'],
      [`${API}/${MINE}/${RUN}/artifacts/mia.txt`, { method: 'PUT', headers: member(), body: 'mia was here' }, 200],
      [`${API}/999/r/x.txt`, { method: 'PUT', headers: admin(), body: 'x' }, 404, 'RESOURCE_DOES_NOT_EXIST'],
      [`${API}/999/r/x.txt`, { headers: admin() }, 404, 'RESOURCE_DOES_NOT_EXIST'],
      [`${API}/${SECRET}`, { method: 'DELETE', headers: admin() }, 400, 'INVALID_PARAMETER_VALUE'],
      [`${API}/${RUN_ROOT}/missing.txt`, { headers: admin() }, 404, 'RESOURCE_DOES_NOT_EXIST'],
      [`${API}/${RUN_ROOT}/sub`, { headers: admin() }, 400, 'INVALID_PARAMETER_VALUE'],
    ];
    for (const [path, init, status, code] of cases) {
      const response = await t.request(path, init);
      const body = await response.text();
      expect(response.status, `${init.method ?? 'GET'} ${path}: ${body}`).toBe(status);
      if (code) expect(JSON.parse(body).error_code).toBe(code);
    }
    expect(readFileSync(storeFile(`${SHARED}/r/shared.txt`), 'utf8')).toBe('shared');
    expect(existsSync(storeFile(`${SHARED}/r/new.txt`))).toBe(false);
    expect(existsSync(storeFile(`${SECRET}/r/new.txt`))).toBe(false);
    expect(existsSync(storeFile('999'))).toBe(false);
    expect(readdirSync(storeFile(String(SECRET)))).toEqual(['r']);
  });
});

describe('paths that could leave the store', () => {
  const invalid = { error_code: 'INVALID_PARAMETER_VALUE' };

  const attempts: Array<{ name: string; method: string; path: string }> = [
    { name: '.. in the listing path', method: 'GET', path: `${API}?path=${MINE}/../${SECRET}` },
    { name: '. in the listing path', method: 'GET', path: `${API}?path=${MINE}/./${RUN}` },
    { name: 'an absolute listing path', method: 'GET', path: `${API}?path=%2Fetc` },
    { name: 'an absolute upload path', method: 'PUT', path: `${API}//tmp/escaped.txt` },
    { name: 'a backslash', method: 'PUT', path: `${API}/${RUN_ROOT}/..%5C..%5Cescaped.txt` },
    { name: 'a backslash in the listing path', method: 'GET', path: `${API}?path=${MINE}%5C..` },
    { name: 'a NUL byte', method: 'PUT', path: `${API}/${RUN_ROOT}/a%00.txt` },
    { name: 'a NUL byte in the listing path', method: 'GET', path: `${API}?path=${MINE}%00` },
    { name: 'an encoded slash', method: 'PUT', path: `${API}/${RUN_ROOT}/..%2F..%2Fescaped.txt` },
    { name: 'an encoded slash, downloading', method: 'GET', path: `${API}/${MINE}%2F..%2F${SECRET}%2Fr%2Fhidden.txt` },
    { name: 'a double-encoded dot-dot', method: 'PUT', path: `${API}/${RUN_ROOT}/%252e%252e/escaped.txt` },
    { name: 'a double-encoded slash', method: 'GET', path: `${API}/${MINE}%252F..%252F${SECRET}/r/hidden.txt` },
    { name: 'an empty segment', method: 'PUT', path: `${API}/${RUN_ROOT}//escaped.txt` },
    { name: 'an empty path', method: 'PUT', path: `${API}/` },
    { name: 'a control character', method: 'PUT', path: `${API}/${RUN_ROOT}/a%0Ab.txt` },
    { name: 'a fragment mark in the listing path', method: 'GET', path: `${API}?path=${MINE}%23x` },
    { name: 'an over-long name', method: 'PUT', path: `${API}/${RUN_ROOT}/${'x'.repeat(256)}` },
    { name: 'an experiment id that is not a number', method: 'PUT', path: `${API}/abc/escaped.txt` },
    { name: 'a symlink planted in the store, downloading through it', method: 'GET', path: `${API}/${RUN_ROOT}/escape/secret.txt` },
    { name: 'a symlink planted in the store, listing it', method: 'GET', path: `${API}?path=${RUN_ROOT}/escape` },
    { name: 'a symlink planted in the store, uploading through it', method: 'PUT', path: `${API}/${RUN_ROOT}/escape/planted.txt` },
    { name: 'a symlink planted in the store, deleting through it', method: 'DELETE', path: `${API}/${RUN_ROOT}/escape/secret.txt` },
    { name: 'a symlink to a file', method: 'GET', path: `${API}/${RUN_ROOT}/link.txt` },
    { name: 'a symlink to a file, overwriting it', method: 'PUT', path: `${API}/${RUN_ROOT}/link.txt` },
  ];
  for (const attempt of attempts) {
    it(`refuses ${attempt.name} with 400`, async () => {
      const response = await t.request(attempt.path, { method: attempt.method, headers: admin(), ...(attempt.method === 'PUT' && { body: 'escaped' }) });
      const body = await response.text();
      expect(response.status, body).toBe(400);
      expect(JSON.parse(body)).toMatchObject(invalid);
    });
  }

  it('dot segments in the URL itself are resolved before routing; what remains is checked like any path', async () => {
    for (const path of [`${API}/${RUN_ROOT}/../../../${SECRET}/r/hidden.txt`, `${API}/${RUN_ROOT}/%2e%2e/%2e%2e/%2e%2e/${SECRET}/r/hidden.txt`]) {
      const response = await t.request(path, { headers: member() });
      expect(response.status).toBe(404);
      expect(await response.text()).not.toContain('hidden');
    }
  });

  it('left everything outside the store, and the planted links, untouched', () => {
    expect(readdirSync(outside)).toEqual(['secret.txt']);
    expect(readFileSync(join(outside, 'secret.txt'), 'utf8')).toBe('outside the store');
    expect(existsSync('/tmp/escaped.txt')).toBe(false);
    expect(readdirSync(storeFile(RUN_ROOT)).filter((name) => name.includes('escaped'))).toEqual([]);
  });
});

describe('an upload cut off mid-way on a real socket', () => {
  let server: ServerType;
  let port: number;
  beforeAll(async () => {
    server = serve({ fetch: t.http.fetch, hostname: '127.0.0.1', port: 0 });
    await new Promise((resolve) => server.once('listening', resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('leaves no partial file and keeps the file it would have replaced', async () => {
    await put(`${RUN_ROOT}/cut.bin`, 'the complete old file');
    const socket = connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const auth = Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString('base64');
    socket.write(
      `PUT ${API}/${RUN_ROOT}/cut.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic ${auth}\r\nContent-Type: application/octet-stream\r\nContent-Length: 10000000\r\n\r\n`,
    );
    socket.write(Buffer.alloc(300_000, 1));
    const partialDir = storeFile('.partial');
    for (let attempt = 0; attempt < 100 && readdirSync(partialDir).length === 0; attempt++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(readdirSync(partialDir)).toHaveLength(1);
    socket.destroy();
    for (let attempt = 0; attempt < 100 && readdirSync(partialDir).length > 0; attempt++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(readdirSync(partialDir)).toEqual([]);
    expect(readFileSync(storeFile(`${RUN_ROOT}/cut.bin`), 'utf8')).toBe('the complete old file');
  });
});
