import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, ADMIN, type TestApp } from '../../helpers/test-app.ts';
import { API, MINE, RUN_ROOT, SECRET, SHARED, createArtifactWorld, type ArtifactWorld } from './artifact-world.ts';

/** MLflow's multipart upload as `HttpArtifactRepository._try_multipart_upload` drives it. */

const MPU = '/api/2.0/mlflow-artifacts/mpu';
const DAY_MS = 24 * 60 * 60 * 1000;

interface Credential {
  url: string;
  part_number: number;
  headers: Record<string, string>;
}
interface Created {
  upload_id: string;
  credentials: Credential[];
}

let world: ArtifactWorld;
let t: TestApp;
beforeAll(async () => {
  world = await createArtifactWorld();
  t = world.t;
});

const uploadsDir = () => world.storeFile('.uploads');
const uploadFolder = (uploadId: string) => join(uploadsDir(), uploadId);
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const bytesOf = (length: number, seed: number) => new Uint8Array(length).map((_, index) => (index * 31 + seed) % 251);

function mpu(action: string, folder: string, body: unknown, headers = world.admin()) {
  return t.request(`${MPU}/${action}/${folder}`, { method: 'POST', headers: { ...headers, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
}

async function create(folder: string, localFile: string, numParts: number): Promise<Created> {
  const response = await mpu('create', folder, { path: localFile, num_parts: numParts });
  const text = await response.text();
  expect(response.status, text).toBe(200);
  return JSON.parse(text) as Created;
}

/** `requests.put(credential.url, data=..., headers=credential.headers)`: the absolute URL, no Trainyard credential. */
function putPart(url: string, body: string | Uint8Array | ReadableStream<Uint8Array>, headers: Record<string, string> = {}): Promise<Response> {
  return Promise.resolve(t.http.request(url, { method: 'PUT', body, headers, ...(body instanceof ReadableStream && { duplex: 'half' }) } as RequestInit));
}

async function uploadParts(created: Created, parts: Uint8Array[], order = parts.map((_, index) => index)) {
  const uploaded: Array<{ part_number: number; etag: string; url: string }> = [];
  for (const index of order) {
    const credential = created.credentials[index]!;
    const response = await putPart(credential.url, parts[index]!, credential.headers);
    expect(response.status, await response.text()).toBe(200);
    uploaded.push({ part_number: credential.part_number, etag: response.headers.get('ETag') ?? '', url: credential.url });
  }
  return uploaded;
}

async function expectError(response: Response, status: number, code: string, message?: RegExp) {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  const body = JSON.parse(text) as { error_code: string; message: string };
  expect(body.error_code).toBe(code);
  if (message) expect(body.message).toMatch(message);
}

const partFiles = (uploadId: string) => readdirSync(uploadFolder(uploadId));

describe('a multipart upload as the MLflow client makes it', () => {
  it('creates signed part URLs, takes the parts in any order without credentials, and joins them on completion', async () => {
    const parts = [bytesOf(5000, 1), bytesOf(5000, 2), bytesOf(1234, 3)];
    const created = await create(`${RUN_ROOT}/model`, '/home/me/tmp/weights.bin', 3);
    expect(created.upload_id).toMatch(/^[0-9a-f]{32}$/);
    expect(created.credentials.map((credential) => credential.part_number)).toEqual([1, 2, 3]);
    for (const credential of created.credentials) {
      expect(credential.headers).toEqual({});
      expect(credential.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:8700${MPU}/part/${created.upload_id}/${credential.part_number}\\?expires=\\d+&signature=[\\w-]+$`));
    }
    const manifest = JSON.parse(readFileSync(join(uploadFolder(created.upload_id), 'manifest.json'), 'utf8'));
    expect(manifest).toEqual({ target: `${RUN_ROOT}/model/weights.bin`, runFolder: `${MINE}/${'a'.repeat(32)}`, numParts: 3, creator: ADMIN.username, createdAt: t.clock.now });

    const uploaded = await uploadParts(created, parts, [2, 0, 1]);
    for (const part of uploaded) expect(part.etag).toBe(`"${sha256(parts[part.part_number - 1]!)}"`);
    expect(existsSync(world.storeFile(`${RUN_ROOT}/model/weights.bin`))).toBe(false);

    const shuffled = [uploaded[0]!, uploaded[2]!, uploaded[1]!];
    const completed = await mpu('complete', `${RUN_ROOT}/model`, { path: '/home/me/tmp/weights.bin', upload_id: created.upload_id, parts: shuffled });
    expect(completed.status, await completed.clone().text()).toBe(200);
    expect(await completed.json()).toEqual({});

    const download = await t.request(`${API}/${RUN_ROOT}/model/weights.bin`, { headers: world.admin() });
    expect(new Uint8Array(await download.arrayBuffer())).toEqual(new Uint8Array(Buffer.concat(parts)));
    expect(existsSync(uploadFolder(created.upload_id))).toBe(false);
    const listing = await t.request(`${API}?path=${RUN_ROOT}/model`, { headers: world.admin() });
    expect(await listing.json()).toEqual({ files: [{ path: 'weights.bin', is_dir: false, file_size: 11234 }] });
  });

  it('takes a part again (a retry) and joins the bytes whose ETag the client reports', async () => {
    const created = await create(RUN_ROOT, 'retried.txt', 2);
    const [first, second] = created.credentials;
    await putPart(first!.url, 'stale first part ');
    const retried = await putPart(first!.url, 'first part ');
    const last = await putPart(second!.url, 'second part');
    const parts = [{ part_number: 1, etag: retried.headers.get('ETag')! }, { part_number: 2, etag: last.headers.get('ETag')! }];
    expect((await mpu('complete', RUN_ROOT, { path: 'retried.txt', upload_id: created.upload_id, parts })).status).toBe(200);
    expect(readFileSync(world.storeFile(`${RUN_ROOT}/retried.txt`), 'utf8')).toBe('first part second part');
  });

  it('replaces an existing artifact whole, and takes ETags without quotes and num_parts as a string', async () => {
    await world.put(`${RUN_ROOT}/replaced.txt`, 'the old file');
    const response = await mpu('create', RUN_ROOT, { path: 'C:\\Users\\me\\replaced.txt', num_parts: '1' });
    const created = (await response.json()) as Created;
    const etag = (await putPart(created.credentials[0]!.url, 'the new file')).headers.get('ETag')!;
    const parts = [{ part_number: '1', etag: etag.replaceAll('"', '') }];
    expect((await mpu('complete', RUN_ROOT, { path: 'C:\\Users\\me\\replaced.txt', upload_id: created.upload_id, parts })).status).toBe(200);
    expect(readFileSync(world.storeFile(`${RUN_ROOT}/replaced.txt`), 'utf8')).toBe('the new file');
  });

  it('streams a multi-MB part to disk while its body is still arriving', async () => {
    const chunk = bytesOf(64 * 1024, 7);
    const chunks = 128;
    const created = await create(RUN_ROOT, 'streamed.bin', 1);
    const folder = uploadFolder(created.upload_id);
    let sent = 0;
    let seenOnDiskBeforeTheEnd = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent === chunks / 2) {
          // Half the body is sent: the server must already have written some of it to the part's file.
          for (let attempt = 0; attempt < 200 && seenOnDiskBeforeTheEnd === 0; attempt++) {
            seenOnDiskBeforeTheEnd = readdirSync(folder).filter((name) => name.endsWith('.tmp')).reduce((size, name) => size + statSync(join(folder, name)).size, 0);
            if (seenOnDiskBeforeTheEnd === 0) await new Promise((resolve) => setTimeout(resolve, 5));
          }
        }
        if (sent === chunks) return controller.close();
        sent++;
        controller.enqueue(chunk.slice());
      },
    });
    const response = await putPart(created.credentials[0]!.url, body);
    expect(response.status, await response.text()).toBe(200);
    expect(seenOnDiskBeforeTheEnd).toBeGreaterThan(0);
    expect(seenOnDiskBeforeTheEnd).toBeLessThan(chunk.length * chunks);

    const whole = new Uint8Array(chunk.length * chunks);
    for (let index = 0; index < chunks; index++) whole.set(chunk, index * chunk.length);
    expect(response.headers.get('ETag')).toBe(`"${sha256(whole)}"`);
    const parts = [{ part_number: 1, etag: response.headers.get('ETag')! }];
    expect((await mpu('complete', RUN_ROOT, { path: 'streamed.bin', upload_id: created.upload_id, parts })).status).toBe(200);
    expect(sha256(readFileSync(world.storeFile(`${RUN_ROOT}/streamed.bin`)))).toBe(sha256(whole));
  });
});

describe('part URLs are the only credential of a part, and are checked', () => {
  let created: Created;
  beforeAll(async () => {
    created = await create(RUN_ROOT, 'guarded.bin', 3);
  });
  const urlOf = (partNumber: number) => new URL(created.credentials[partNumber - 1]!.url);

  it('refuses a URL whose signature, part number, upload id or expiry was changed, with 403 in MLflow’s shape', async () => {
    const tampered: Array<[string, (url: URL) => void]> = [
      ['no signature', (url) => url.searchParams.delete('signature')],
      ['an empty signature', (url) => url.searchParams.set('signature', '')],
      ['a changed signature', (url) => url.searchParams.set('signature', `${url.searchParams.get('signature')!.slice(0, -2)}AA`)],
      ['a later expiry', (url) => url.searchParams.set('expires', String(Number(url.searchParams.get('expires')) + 1))],
      ['no expiry', (url) => url.searchParams.delete('expires')],
      ['part 1 signed, part 2 asked', (url) => (url.pathname = url.pathname.replace(/\/1$/, '/2'))],
      ['a part number past the last', (url) => (url.pathname = url.pathname.replace(/\/1$/, '/4'))],
      ['part number 0', (url) => (url.pathname = url.pathname.replace(/\/1$/, '/0'))],
      ['part number 01', (url) => (url.pathname = url.pathname.replace(/\/1$/, '/01'))],
      ['another upload id', (url) => (url.pathname = url.pathname.replace(created.upload_id, 'b'.repeat(32)))],
      ['an upload id that is a path', (url) => (url.pathname = url.pathname.replace(created.upload_id, '..%2F..%2Fx'))],
    ];
    for (const [name, change] of tampered) {
      const url = urlOf(1);
      change(url);
      const response = await putPart(url.href, 'forged');
      expect(response.status, name).toBe(403);
      await expectError(response, 403, 'PERMISSION_DENIED');
    }
    expect(partFiles(created.upload_id)).toEqual(['manifest.json']);
  });

  it('ignores Trainyard credentials on part URLs: a signed URL needs none, an unsigned one gets nothing from them', async () => {
    const url = urlOf(2);
    url.searchParams.delete('signature');
    await expectError(await putPart(url.href, 'x', world.admin()), 403, 'PERMISSION_DENIED');
    expect((await putPart(urlOf(2).href, 'two', { Authorization: 'Bearer not-a-token' })).status).toBe(200);
  });

  it('refuses a truncated part with 400 and keeps nothing of it', async () => {
    const response = await putPart(urlOf(3).href, 'only a few bytes', { 'Content-Length': '1000' });
    await expectError(response, 400, 'BAD_REQUEST', /interrupted/);
    expect(partFiles(created.upload_id).filter((name) => name.startsWith('3.'))).toEqual([]);
  });

  it('refuses the URLs once they expire, and forgets the upload', async () => {
    const late = await create(RUN_ROOT, 'late.bin', 1);
    const etag = (await putPart(late.credentials[0]!.url, 'in time')).headers.get('ETag')!;
    t.clock.advance(DAY_MS);
    await expectError(await putPart(late.credentials[0]!.url, 'too late'), 403, 'PERMISSION_DENIED', /expired/);
    const parts = [{ part_number: 1, etag }];
    await expectError(await mpu('complete', RUN_ROOT, { path: 'late.bin', upload_id: late.upload_id, parts }), 404, 'RESOURCE_DOES_NOT_EXIST');
    expect(existsSync(world.storeFile(`${RUN_ROOT}/late.bin`))).toBe(false);
    // The next create sweeps what has expired.
    await create(RUN_ROOT, 'next.bin', 1);
    expect(existsSync(uploadFolder(late.upload_id))).toBe(false);
    expect(existsSync(uploadFolder(created.upload_id))).toBe(false);
  });
});

describe('completing and aborting', () => {
  async function uploadedThree(name: string) {
    const parts = [bytesOf(300, 1), bytesOf(300, 2), bytesOf(300, 3)];
    const created = await create(RUN_ROOT, name, 3);
    return { created, parts: await uploadParts(created, parts) };
  }

  it('refuses a completion that misses a part, lists one twice or names one out of range, and changes nothing', async () => {
    await world.put(`${RUN_ROOT}/kept.bin`, 'the file that stays');
    const { created, parts } = await uploadedThree('kept.bin');
    const complete = (listed: unknown[]) => mpu('complete', RUN_ROOT, { path: 'kept.bin', upload_id: created.upload_id, parts: listed });
    await expectError(await complete(parts.slice(0, 2)), 400, 'INVALID_PARAMETER_VALUE', /Part 3 of 3 is missing/);
    await expectError(await complete([...parts, parts[0]]), 400, 'INVALID_PARAMETER_VALUE', /listed more than once/);
    await expectError(await complete([...parts, { part_number: 4, etag: parts[0]!.etag }]), 400, 'INVALID_PARAMETER_VALUE', /1 to 3/);
    await expectError(await complete([]), 400, 'INVALID_PARAMETER_VALUE', /Part 1 of 3 is missing/);
    expect(readFileSync(world.storeFile(`${RUN_ROOT}/kept.bin`), 'utf8')).toBe('the file that stays');
    expect(partFiles(created.upload_id)).toHaveLength(4);
    expect((await complete(parts)).status).toBe(200);
  });

  it('refuses a part that was never uploaded and an ETag that does not match, and changes nothing', async () => {
    const created = await create(RUN_ROOT, 'gaps.bin', 2);
    const [first] = await uploadParts(created, [bytesOf(10, 1), bytesOf(10, 2)], [0]);
    const complete = (listed: unknown[]) => mpu('complete', RUN_ROOT, { path: 'gaps.bin', upload_id: created.upload_id, parts: listed });
    await expectError(await complete([first, { part_number: 2, etag: first!.etag }]), 400, 'INVALID_PARAMETER_VALUE', /Part 2 of 2 was never uploaded/);
    const [second] = await uploadParts(created, [bytesOf(10, 1), bytesOf(10, 2)], [1]);
    await expectError(await complete([first, { ...second, etag: `"${'0'.repeat(64)}"` }]), 400, 'INVALID_PARAMETER_VALUE', /etag of part 2 does not match/);
    await expectError(await complete([first, { ...second, etag: '../../manifest.json' }]), 400, 'INVALID_PARAMETER_VALUE', /etag of part 2/);
    expect(existsSync(world.storeFile(`${RUN_ROOT}/gaps.bin`))).toBe(false);
    expect((await complete([first, second])).status).toBe(200);
    expect(readFileSync(world.storeFile(`${RUN_ROOT}/gaps.bin`))).toEqual(Buffer.concat([bytesOf(10, 1), bytesOf(10, 2)]));
  });

  it('completes an upload only for the artifact it was created for', async () => {
    const { created, parts } = await uploadedThree('here.bin');
    await expectError(await mpu('complete', RUN_ROOT, { path: 'there.bin', upload_id: created.upload_id, parts }), 404, 'RESOURCE_DOES_NOT_EXIST');
    await expectError(await mpu('complete', `${RUN_ROOT}/sub`, { path: 'here.bin', upload_id: created.upload_id, parts }), 404, 'RESOURCE_DOES_NOT_EXIST');
    await expectError(await mpu('abort', `${MINE}/${'c'.repeat(32)}/artifacts`, { path: 'here.bin', upload_id: created.upload_id }), 404, 'RESOURCE_DOES_NOT_EXIST');
    expect(existsSync(uploadFolder(created.upload_id))).toBe(true);
  });

  it('aborts: the parts are gone, and completing or adding a part afterwards finds nothing', async () => {
    const { created, parts } = await uploadedThree('aborted.bin');
    const aborted = await mpu('abort', RUN_ROOT, { path: 'aborted.bin', upload_id: created.upload_id });
    expect(aborted.status).toBe(200);
    expect(await aborted.json()).toEqual({});
    expect(existsSync(uploadFolder(created.upload_id))).toBe(false);
    await expectError(await mpu('complete', RUN_ROOT, { path: 'aborted.bin', upload_id: created.upload_id, parts }), 404, 'RESOURCE_DOES_NOT_EXIST');
    await expectError(await putPart(created.credentials[0]!.url, 'late part'), 404, 'RESOURCE_DOES_NOT_EXIST');
    await expectError(await mpu('abort', RUN_ROOT, { path: 'aborted.bin', upload_id: created.upload_id }), 404, 'RESOURCE_DOES_NOT_EXIST');
    expect(existsSync(world.storeFile(`${RUN_ROOT}/aborted.bin`))).toBe(false);
  });
});

describe('who may upload, and where', () => {
  it('needs editor rights on the experiment’s project, as the single upload does', async () => {
    const body = { path: 'x.bin', num_parts: 2 };
    await expectError(await mpu('create', `${SHARED}/r`, body, world.member()), 403, 'PERMISSION_DENIED');
    await expectError(await mpu('create', `${SECRET}/r`, body, world.member()), 404, 'RESOURCE_DOES_NOT_EXIST');
    await expectError(await mpu('create', '999/r', body), 404, 'RESOURCE_DOES_NOT_EXIST');
    await expectError(await mpu('create', RUN_ROOT, body, {}), 401, 'UNAUTHENTICATED');
    const created = await create(RUN_ROOT, 'mine.bin', 1);
    await expectError(await mpu('abort', RUN_ROOT, { path: 'mine.bin', upload_id: created.upload_id }, {}), 401, 'UNAUTHENTICATED');
    expect((await mpu('create', RUN_ROOT, body, world.member())).status).toBe(200);
    expect(readdirSync(world.storeFile(`${SHARED}/r`))).toEqual(['shared.txt']);
  });

  it('refuses paths that could leave the store with 400 before any part is taken', async () => {
    const attempts: Array<[string, string]> = [
      [`${RUN_ROOT}/..%2F..%2Fx`, 'x.bin'],
      [`${RUN_ROOT}/%252e%252e`, 'x.bin'],
      [`/tmp`, 'x.bin'],
      [`${RUN_ROOT}//x`, 'x.bin'],
      [RUN_ROOT, '/tmp/..'],
      [RUN_ROOT, 'dir/'],
      [RUN_ROOT, 'a\u0000b'],
      [`${RUN_ROOT}/escape`, 'planted.bin'],
      [RUN_ROOT, 'link.txt'],
      [`${RUN_ROOT}/link.txt`, 'x.bin'],
      [RUN_ROOT, 'x'.repeat(256)],
      [`abc/r`, 'x.bin'],
    ];
    for (const [folder, localFile] of attempts) {
      await expectError(await mpu('create', folder, { path: localFile, num_parts: 1 }), 400, 'INVALID_PARAMETER_VALUE');
    }
    expect(readdirSync(world.outside)).toEqual(['secret.txt']);
  });

  it('refuses malformed requests with 4xx', async () => {
    const cases: Array<[Promise<Response>, number]> = [
      [mpu('create', RUN_ROOT, { num_parts: 3 }), 400],
      [mpu('create', RUN_ROOT, { path: 'x' }), 400],
      [mpu('create', RUN_ROOT, { path: 'x', num_parts: 'many' }), 400],
      [mpu('create', RUN_ROOT, { path: 'x', num_parts: 0 }), 400],
      [mpu('create', RUN_ROOT, { path: 'x', num_parts: 10_001 }), 400],
      [mpu('create', RUN_ROOT, { path: 'x', num_parts: 1.5 }), 400],
      [mpu('create', RUN_ROOT, { path: 'x', num_parts: -1 }), 400],
      [mpu('complete', RUN_ROOT, { path: 'x', parts: [] }), 400],
      [mpu('complete', RUN_ROOT, { path: 'x', upload_id: 'u', parts: 'all' }), 400],
      [mpu('complete', RUN_ROOT, { path: 'x', upload_id: 'u', parts: [{ part_number: 1 }] }), 400],
      [mpu('complete', RUN_ROOT, { path: 'x', upload_id: 'f'.repeat(32), parts: [] }), 404],
      [mpu('complete', RUN_ROOT, { path: 'x', upload_id: '../../.partial', parts: [] }), 404],
      [mpu('abort', RUN_ROOT, { path: 'x' }), 400],
      [mpu('abort', RUN_ROOT, { path: 'x', upload_id: 'nope' }), 404],
      [mpu('create', RUN_ROOT, { path: 'x'.repeat(5000), num_parts: 1 }), 413],
      [Promise.resolve(t.request(`${MPU}/create/${RUN_ROOT}`, { method: 'POST', headers: world.admin(), body: 'path=x' })), 415],
      [Promise.resolve(t.request(`${MPU}/create/${RUN_ROOT}`, { method: 'POST', headers: { ...world.admin(), 'Content-Type': 'application/json' }, body: '{' })), 400],
    ];
    for (const [pending, status] of cases) {
      const response = await pending;
      const text = await response.text();
      expect(response.status, text).toBe(status);
      expect(JSON.parse(text)).toHaveProperty('error_code');
    }
  });
});

describe('the address in the part URLs', () => {
  it('is the configured public URL when there is one', async () => {
    const other = await createTestApp({ publicUrl: 'https://yard.example.com/' });
    const { created } = await createIn(other);
    expect(created.credentials[0]!.url).toMatch(/^https:\/\/yard\.example\.com\/api\/2\.0\/mlflow-artifacts\/mpu\/part\//);
  });

  it('follows X-Forwarded-Proto and X-Forwarded-Host only from a trusted proxy', async () => {
    const forwarded = { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'yard.internal:8443' };
    expect((await createIn(t, forwarded)).created.credentials[0]!.url).toMatch(/^http:\/\/127\.0\.0\.1:8700\//);
    const behindProxy = await createTestApp({ trustProxy: true });
    expect((await createIn(behindProxy, forwarded)).created.credentials[0]!.url).toMatch(/^https:\/\/yard\.internal:8443\/api\//);
    expect((await createIn(behindProxy, { Host: 'yard.lan:9000' })).created.credentials[0]!.url).toMatch(/^http:\/\/127\.0\.0\.1:8700\//);
  });

  /** An upload to experiment 0 (the default experiment every test app has), as the admin. */
  async function createIn(app: TestApp, headers: Record<string, string> = {}) {
    const response = await app.request(`${MPU}/create/0/r/artifacts`, {
      method: 'POST',
      headers: { Authorization: app.basic(ADMIN), 'Content-Type': 'application/json', ...headers },
      body: JSON.stringify({ path: 'model.bin', num_parts: 1 }),
    });
    expect(response.status).toBe(200);
    return { created: (await response.json()) as Created };
  }
});

describe('a part cut off mid-way on a real socket', () => {
  let server: ServerType;
  let port: number;
  beforeAll(async () => {
    server = serve({ fetch: t.http.fetch, hostname: '127.0.0.1', port: 0 });
    await new Promise((resolve) => server.once('listening', resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const waitFor = async (condition: () => boolean) => {
    for (let attempt = 0; attempt < 200 && !condition(); attempt++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(condition()).toBe(true);
  };

  it('leaves no part file, and the part can be sent again', async () => {
    const created = await create(RUN_ROOT, 'cut.bin', 1);
    const url = new URL(created.credentials[0]!.url);
    const socket = connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(`PUT ${url.pathname}${url.search} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Length: 10000000\r\n\r\n`);
    socket.write(Buffer.alloc(300_000, 1));
    const temporaries = () => partFiles(created.upload_id).filter((name) => name.endsWith('.tmp'));
    await waitFor(() => temporaries().length === 1);
    socket.destroy();
    await waitFor(() => temporaries().length === 0);
    expect(partFiles(created.upload_id)).toEqual(['manifest.json']);

    const parts = [{ part_number: 1, etag: 'none' }];
    await expectError(await mpu('complete', RUN_ROOT, { path: 'cut.bin', upload_id: created.upload_id, parts }), 400, 'INVALID_PARAMETER_VALUE', /never uploaded/);
    const whole = await fetch(`http://127.0.0.1:${port}${url.pathname}${url.search}`, { method: 'PUT', body: 'the whole part' });
    expect(whole.status).toBe(200);
    parts[0]!.etag = whole.headers.get('ETag')!;
    expect((await mpu('complete', RUN_ROOT, { path: 'cut.bin', upload_id: created.upload_id, parts })).status).toBe(200);
    expect(readFileSync(world.storeFile(`${RUN_ROOT}/cut.bin`), 'utf8')).toBe('the whole part');
  });
});
