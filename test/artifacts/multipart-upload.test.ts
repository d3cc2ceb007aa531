import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createMultipartUploads, type MultipartUploads } from '../../src/artifacts/multipart-upload.ts';
import { createArtifactStore, type ArtifactStore } from '../../src/artifacts/artifact-store.ts';
import { createUploadSigner } from '../../src/artifacts/upload-signature.ts';
import { HttpError } from '../../src/lib/errors.ts';

const root = mkdtempSync(join(tmpdir(), 'trainyard-multipart-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const DAY_MS = 24 * 60 * 60 * 1000;
const TARGET = '1/run/artifacts/model.bin';
const clock = { now: 1_000_000 };
const signer = createUploadSigner({ now: () => clock.now, key: Buffer.alloc(32, 7) });
const uploadsDir = join(root, '.uploads');
let store: ArtifactStore;
let uploads: MultipartUploads;

beforeEach(() => {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root);
  store = createArtifactStore({ root });
  uploads = createMultipartUploads({ store, dir: uploadsDir, now: () => clock.now, signer });
});

const chunks = (value: string) => [new TextEncoder().encode(value)];

async function refusal(work: Promise<unknown>): Promise<HttpError> {
  const error = await work.then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(HttpError);
  return error as HttpError;
}

/** An upload whose parts are all written; returns its id and the ETags. */
async function uploaded(parts: string[]) {
  const created = await uploads.create(TARGET, parts.length, 'ann');
  const etags: string[] = [];
  for (const [index, { grant, signature }] of created.parts.entries()) etags.push(await uploads.writePart(grant, signature, chunks(parts[index]!)));
  return { uploadId: created.uploadId, listed: etags.map((etag, index) => ({ partNumber: index + 1, etag })) };
}

describe('multipart uploads in the store', () => {
  it('refuses a signed part number outside the upload with 400', async () => {
    const created = await uploads.create(TARGET, 2, 'ann');
    for (const partNumber of ['0', '3']) {
      const grant = { ...created.parts[0]!.grant, partNumber };
      const error = await refusal(uploads.writePart(grant, signer.sign(grant), chunks('x')));
      expect([error.status, error.code]).toEqual([400, 'INVALID_PARAMETER_VALUE']);
    }
    expect(readdirSync(join(uploadsDir, created.uploadId))).toEqual(['manifest.json']);
  });

  it('lets one completion join the parts; a second one, an abort or a new part meanwhile is refused', async () => {
    // A store that holds the join until released, to look at the upload while it is being completed.
    let joining!: () => void;
    let release!: () => void;
    const entered = new Promise<void>((resolve) => (joining = resolve));
    const gate = new Promise<void>((resolve) => (release = resolve));
    const heldStore = {
      assertWritable: store.assertWritable,
      async write(path: string, body: AsyncIterable<Uint8Array>) {
        joining();
        await gate;
        await store.write(path, body);
      },
    };
    uploads = createMultipartUploads({ store: heldStore, dir: uploadsDir, now: () => clock.now, signer });
    const created = await uploads.create(TARGET, 2, 'ann');
    const etag = await uploads.writePart(created.parts[0]!.grant, created.parts[0]!.signature, chunks('first '));
    const listed = [{ partNumber: 1, etag }, { partNumber: 2, etag: await uploads.writePart(created.parts[1]!.grant, created.parts[1]!.signature, chunks('second')) }];

    const first = uploads.complete(TARGET, created.uploadId, listed);
    await entered;
    const refusals = [
      await refusal(uploads.complete(TARGET, created.uploadId, listed)),
      await refusal(uploads.abort(TARGET, created.uploadId)),
      await refusal(uploads.writePart(created.parts[0]!.grant, created.parts[0]!.signature, chunks('late'))),
    ];
    for (const error of refusals) expect([error.status, error.message]).toEqual([400, `Multipart upload ${created.uploadId} is being completed`]);
    release();
    await first;
    expect(readFileSync(join(root, TARGET), 'utf8')).toBe('first second');
    expect(readdirSync(uploadsDir)).toEqual([]);
    expect(readdirSync(join(root, '.partial'))).toEqual([]);
  });

  it('leaves the parts in place when joining fails, so the client may complete again', async () => {
    const { uploadId, listed } = await uploaded(['a', 'b']);
    mkdirSync(join(root, TARGET), { recursive: true });
    expect((await refusal(uploads.complete(TARGET, uploadId, listed))).status).toBe(400);
    rmSync(join(root, TARGET), { recursive: true });
    await uploads.complete(TARGET, uploadId, listed);
    expect(readFileSync(join(root, TARGET), 'utf8')).toBe('ab');
  });

  it('sweeps expired uploads and crash debris on the next create, and keeps the live ones', async () => {
    const old = await uploads.create(TARGET, 1, 'ann');
    clock.now += DAY_MS - 1;
    const live = await uploads.create(TARGET, 1, 'ann');
    const debris = join(uploadsDir, 'f'.repeat(32));
    const fresh = join(uploadsDir, 'e'.repeat(32));
    mkdirSync(debris);
    mkdirSync(fresh);
    writeFileSync(join(debris, '1.tmp'), 'left by a crash');
    const twoDaysAgo = (Date.now() - 2 * DAY_MS) / 1000;
    utimesSync(debris, twoDaysAgo, twoDaysAgo);
    clock.now += 1;
    await uploads.create(TARGET, 1, 'ann');
    expect(existsSync(join(uploadsDir, old.uploadId))).toBe(false);
    expect(existsSync(debris)).toBe(false);
    expect(existsSync(join(uploadsDir, live.uploadId))).toBe(true);
    expect(existsSync(fresh)).toBe(true);
  });

  it('keeps its folder out of the listing of experiments', async () => {
    await uploads.create(TARGET, 1, 'ann');
    await store.write('1/run/artifacts/a.txt', chunks('a'));
    expect(await store.list('')).toEqual([{ name: '1', isDir: true }]);
  });

  it('refuses to start an upload to a path the store could not write', async () => {
    await store.write('1/run/artifacts/file', chunks('a file'));
    for (const target of ['1/run/artifacts/file/model.bin', '1/run/artifacts', '../model.bin', '1/run/artifacts/a%2Fb']) {
      expect((await refusal(uploads.create(target, 1, 'ann'))).status).toBe(400);
    }
    expect(readdirSync(uploadsDir)).toEqual([]);
  });
});
