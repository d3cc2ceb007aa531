import { lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { runScenarios } from '../helpers/scenarios.ts';
import { MEMBER, createTestApp, type TestApp } from '../helpers/test-app.ts';
import { tarGz } from '../scheduler/snapshot-archives.ts';

const LIMIT = 64 * 1024;
let t: TestApp;
let root: string;
const auth = () => ({ Authorization: t.basic(MEMBER) });
const upload = (body: Buffer | string, headers: Record<string, string> = {}) =>
  t.request('/api/v1/snapshots', { method: 'POST', headers: { ...auth(), 'Content-Type': 'application/gzip', ...headers }, body });

beforeAll(async () => {
  t = await createTestApp({ snapshotMaxBytes: LIMIT });
  root = join(t.app.config.dataDir, 'snapshots');
});

describe('POST /api/v1/snapshots', () => {
  it('unpacks a tar.gz into a folder of its own, links inside kept, modes masked', async () => {
    const response = await upload(
      tarGz([
        { path: './', type: 'Directory', mode: 0o777 },
        { path: 'src/', type: 'Directory', mode: 0o777 },
        { path: 'src/train.py', body: 'print("hi")\n', mode: 0o666 },
        { path: 'run.sh', body: '#!/bin/sh\n', mode: 0o4777 },
        { path: 'latest', type: 'SymbolicLink', linkpath: 'src/train.py' },
        { path: 'src/up', type: 'SymbolicLink', linkpath: '../run.sh' },
        { path: 'copy.py', type: 'Link', linkpath: 'src/train.py' },
      ]),
    );
    expect(response.status).toBe(201);
    const { id, files, bytes } = (await response.json()) as { id: string; files: number; bytes: number };
    expect(id).toMatch(/^[a-f0-9]{32}$/);
    expect({ files, bytes }).toEqual({ files: 2, bytes: 22 });
    const folder = t.app.snapshots.folderOf(id);
    expect(folder).toBe(join(root, id));
    expect(readFileSync(join(folder, 'latest'), 'utf8')).toBe('print("hi")\n');
    expect(readlinkSync(join(folder, 'src/up'))).toBe('../run.sh');
    expect(statSync(join(folder, 'copy.py')).ino).toBe(statSync(join(folder, 'src/train.py')).ino);
    expect(statSync(join(folder, 'src/train.py')).mode & 0o7777).toBe(0o644);
    expect(statSync(join(folder, 'run.sh')).mode & 0o7777).toBe(0o755);
    expect(statSync(join(folder, 'src')).mode & 0o7777).toBe(0o755);
  });

  it('tells the CLI its limits', async () => {
    const { status, text } = await t.get('/api/v1/snapshots/limits', MEMBER);
    expect(status).toBe(200);
    expect(JSON.parse(text)).toEqual({ maxBytes: LIMIT, maxUnpackedBytes: 10 * LIMIT, maxEntries: 250_000 });
  });

  const refused: Array<[string, Buffer | string, number, RegExp]> = [
    ['a path with ..', tarGz([{ path: 'ok.txt', body: '1' }, { path: '../x', body: 'evil' }]), 400, /"\.\.\/x" cannot be unpacked: '\.\.' is not allowed/],
    ['a path hidden behind ..', tarGz([{ path: 'a/../../x', body: 'evil' }]), 400, /'\.\.' is not allowed/],
    ['an absolute path', tarGz([{ path: '/etc/x', body: 'evil' }]), 400, /"\/etc\/x" cannot be unpacked: absolute paths are not allowed/],
    ['a symbolic link to /etc/passwd', tarGz([{ path: 'p', type: 'SymbolicLink', linkpath: '/etc/passwd' }]), 400, /"p" cannot be unpacked: the link points outside the snapshot, to "\/etc\/passwd"/],
    ['a symbolic link up and out', tarGz([{ path: 'a/p', type: 'SymbolicLink', linkpath: '../../etc/passwd' }]), 400, /"a\/p" cannot be unpacked: the link points outside the snapshot, to "\.\.\/\.\.\/etc\/passwd"/],
    [
      'a chain of links that leads out only when followed',
      tarGz([{ path: 'd/', type: 'Directory' }, { path: 'd/l', type: 'SymbolicLink', linkpath: '..' }, { path: 'x', type: 'SymbolicLink', linkpath: 'd/l/..' }]),
      400,
      /link "x" leads outside/,
    ],
    ['a loop of links', tarGz([{ path: 'a', type: 'SymbolicLink', linkpath: 'b' }, { path: 'b', type: 'SymbolicLink', linkpath: 'a' }]), 400, /leads outside|through symbolic link/],
    ['a file written through a link', tarGz([{ path: 'l', type: 'SymbolicLink', linkpath: '.' }, { path: 'l/x', body: 'evil' }]), 400, /"l\/x" cannot be unpacked: it lies below "l", which is a symbolic link/],
    ['a hard link to /etc/passwd', tarGz([{ path: 'h', type: 'Link', linkpath: '/etc/passwd' }]), 400, /"h" cannot be unpacked: its target "\/etc\/passwd": absolute paths/],
    ['a hard link to something not in the archive', tarGz([{ path: 'h', type: 'Link', linkpath: 'later.txt' }, { path: 'later.txt', body: '1' }]), 400, /hard link must point to a file earlier/],
    ['a character device', tarGz([{ path: 'dev', type: 'CharacterDevice' }]), 400, /CharacterDevice entries are not allowed/],
    ['a FIFO', tarGz([{ path: 'fifo', type: 'FIFO' }]), 400, /FIFO entries are not allowed/],
    ['the same path twice', tarGz([{ path: 'a', body: '1' }, { path: 'a', body: '2' }]), 400, /holds this path twice/],
    ['a truncated gzip', tarGz([{ path: 'a.txt', body: 'x'.repeat(5000) }]).subarray(0, 40), 400, /not a valid tar\.gz archive: zlib: unexpected end of file/],
    ['a gzip of text', Buffer.from('1f8b', 'hex'), 400, /not a valid tar\.gz archive/],
    ['no body', '', 400, /not a valid tar\.gz archive/],
    ['a body over the limit', tarGz([{ path: 'noise', body: randomBytes(LIMIT) }]), 413, /larger than the limit of 65536 bytes/],
    ['a body that unpacks past ten times the limit', tarGz([{ path: 'zeros', body: Buffer.alloc(10 * LIMIT + 1) }]), 413, /unpacks to more than 655360 bytes/],
  ];
  for (const [name, body, status, message] of refused) {
    it(`refuses ${name} and leaves nothing behind`, async () => {
      const before = readdirSync(root).sort();
      const response = await upload(body);
      const answer = (await response.json()) as { error_code: string; message: string };
      expect(response.status, answer.message).toBe(status);
      expect(answer.message).toMatch(message);
      expect(readdirSync(root).sort()).toEqual(before);
    });
  }

  it('refuses a declared length over the limit before reading the body', async () => {
    const response = await upload('', { 'Content-Length': String(LIMIT + 1) });
    expect(response.status).toBe(413);
    expect(response.headers.get('Connection')).toBe('close');
  });

  runScenarios(() => t, [
    { name: 'needs a credential', method: 'POST', path: '/api/v1/snapshots', headers: { 'Content-Type': 'application/gzip' }, body: 'x', status: 401 },
    { name: 'wants gzip', method: 'POST', path: '/api/v1/snapshots', headers: { Authorization: `Basic ${Buffer.from(`${MEMBER.username}:${MEMBER.password}`).toString('base64')}` }, body: { files: [] }, status: 415, json: { error_code: 'UNSUPPORTED_MEDIA_TYPE' } },
  ]);

  it('keeps no hidden leftovers of uploads', () => {
    expect(readdirSync(root).filter((name) => name.startsWith('.'))).toEqual([]);
    for (const name of readdirSync(root).filter((entry) => !entry.endsWith('.json'))) expect(lstatSync(join(root, name)).isDirectory()).toBe(true);
  });
});
