import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createArtifactStore, type ArtifactStore } from '../../src/artifacts/artifact-store.ts';

const root = mkdtempSync(join(tmpdir(), 'trainyard-artifacts-'));
const outside = mkdtempSync(join(tmpdir(), 'trainyard-outside-'));
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

let store: ArtifactStore;
beforeEach(() => {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root);
  store = createArtifactStore({ root });
});

const bytes = (value: string) => [new TextEncoder().encode(value)];
const partials = () => readdirSync(join(root, '.partial'));

async function* failingBody(): AsyncGenerator<Uint8Array> {
  yield new TextEncoder().encode('half of the new ');
  throw new Error('socket hang up');
}

describe('the artifact store', () => {
  it('writes, reads back, lists and removes files', async () => {
    await store.write('1/run/artifacts/hello.txt', bytes('hello artifact\n'));
    await store.write('1/run/artifacts/sub/dir/a.bin', bytes('abc'));
    const file = await store.read('1/run/artifacts/hello.txt');
    expect(file.size).toBe(15);
    expect(await text(file.stream)).toBe('hello artifact\n');
    expect(await store.list('1/run/artifacts')).toEqual([
      { name: 'hello.txt', isDir: false, size: 15 },
      { name: 'sub', isDir: true },
    ]);
    expect(await store.remove('1/run/artifacts/sub')).toBe(true);
    expect(await store.remove('1/run/artifacts/sub')).toBe(false);
    expect(await store.list('1/run/artifacts')).toEqual([{ name: 'hello.txt', isDir: false, size: 15 }]);
  });

  it('lists nothing for a missing folder or a file, and hides partial uploads at the root', async () => {
    await store.write('1/run/artifacts/hello.txt', bytes('x'));
    expect(await store.list('1/run/nope')).toEqual([]);
    expect(await store.list('1/run/artifacts/hello.txt')).toEqual([]);
    expect(await store.list('')).toEqual([{ name: '1', isDir: true }]);
  });

  it('writes an empty body as an empty file', async () => {
    await store.write('1/run/artifacts/empty', []);
    expect((await store.read('1/run/artifacts/empty')).size).toBe(0);
  });

  it('a failing body leaves neither a partial file nor a folder, and keeps the file it would have replaced', async () => {
    await store.write('1/run/artifacts/model.pkl', bytes('the old model'));
    await expect(store.write('1/run/artifacts/model.pkl', failingBody())).rejects.toMatchObject({ status: 400, code: 'BAD_REQUEST' });
    await expect(store.write('1/run/artifacts/new/deep/model.pkl', failingBody())).rejects.toMatchObject({ status: 400 });
    expect(readFileSync(join(root, '1/run/artifacts/model.pkl'), 'utf8')).toBe('the old model');
    expect(existsSync(join(root, '1/run/artifacts/new'))).toBe(false);
    expect(partials()).toEqual([]);
  });

  it('a body shorter than announced is refused the same way', async () => {
    await store.write('1/run/artifacts/model.pkl', bytes('the old model'));
    await expect(store.write('1/run/artifacts/model.pkl', bytes('short'), 1000)).rejects.toMatchObject({ status: 400, message: expect.stringContaining('received 5 of 1000 bytes') });
    expect(readFileSync(join(root, '1/run/artifacts/model.pkl'), 'utf8')).toBe('the old model');
    expect(partials()).toEqual([]);
  });

  it('replaces a file whole once the new one is complete', async () => {
    await store.write('1/run/artifacts/model.pkl', bytes('old'));
    await store.write('1/run/artifacts/model.pkl', bytes('new and longer'), 14);
    expect(readFileSync(join(root, '1/run/artifacts/model.pkl'), 'utf8')).toBe('new and longer');
  });

  it('answers 4xx when files and folders are in the way', async () => {
    await store.write('1/run/artifacts/file', bytes('x'));
    await expect(store.write('1/run/artifacts/file/child', bytes('y'))).rejects.toMatchObject({ status: 400 });
    await expect(store.write('1/run/artifacts', bytes('y'))).rejects.toMatchObject({ status: 400, message: expect.stringContaining('is a folder') });
    await expect(store.read('1/run/artifacts')).rejects.toMatchObject({ status: 400 });
    await expect(store.read('1/run/artifacts/missing')).rejects.toMatchObject({ status: 404, code: 'RESOURCE_DOES_NOT_EXIST' });
    await expect(store.read('1/run/artifacts/file/child')).rejects.toMatchObject({ status: 404 });
  });

  it('never follows a symbolic link planted in the store', async () => {
    writeFileSync(join(outside, 'secret.txt'), 'secret');
    mkdirSync(join(root, '1/run/artifacts'), { recursive: true });
    symlinkSync(outside, join(root, '1/run/artifacts/escape'));
    await expect(store.read('1/run/artifacts/escape/secret.txt')).rejects.toMatchObject({ status: 400 });
    await expect(store.list('1/run/artifacts/escape')).rejects.toMatchObject({ status: 400 });
    await expect(store.write('1/run/artifacts/escape/planted.txt', bytes('x'))).rejects.toMatchObject({ status: 400 });
    await expect(store.remove('1/run/artifacts/escape/secret.txt')).rejects.toMatchObject({ status: 400 });
    expect(readdirSync(outside)).toEqual(['secret.txt']);
    expect(await store.list('1/run/artifacts')).toEqual([]);
  });

  it('refuses a FIFO instead of hanging on it', async () => {
    mkdirSync(join(root, '1/run'), { recursive: true });
    execFileSync('mkfifo', [join(root, '1/run/pipe')]);
    await expect(store.read('1/run/pipe')).rejects.toMatchObject({ status: 400, message: expect.stringContaining('not a regular file') });
  });

  it('sweeps partial files a dead process left behind, but not fresh ones', () => {
    writeFileSync(join(root, '.partial', 'old.part'), 'x');
    writeFileSync(join(root, '.partial', 'fresh.part'), 'x');
    const hourAndMinuteAgo = (Date.now() - 61 * 60 * 1000) / 1000;
    utimesSync(join(root, '.partial', 'old.part'), hourAndMinuteAgo, hourAndMinuteAgo);
    createArtifactStore({ root });
    expect(partials()).toEqual(['fresh.part']);
  });
});
