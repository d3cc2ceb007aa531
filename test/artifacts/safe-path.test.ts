import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { artifactPathSegments, resolveInside } from '../../src/artifacts/safe-path.ts';

describe('artifactPathSegments', () => {
  it('splits a relative path into its names', () => {
    expect(artifactPathSegments('1/abc/artifacts/model/MLmodel')).toEqual(['1', 'abc', 'artifacts', 'model', 'MLmodel']);
    expect(artifactPathSegments('1/run/artifacts/a b+c~(d).txt')).toHaveLength(4);
    expect(artifactPathSegments('1/run/artifacts/100%.txt')).toHaveLength(4);
  });

  const refused: Array<[string, string, string]> = [
    ['empty', '', 'empty'],
    ['a .. segment', '1/run/../../etc/passwd', "'..' segments"],
    ['a trailing .. segment', '1/..', "'..' segments"],
    ['a . segment', '1/./x', "'.' segments"],
    ['an absolute path', '/etc/passwd', 'absolute'],
    ['a backslash', '1/run\\..\\x', 'backslashes'],
    ['a NUL byte', '1/run/a\u0000.txt', 'control characters'],
    ['a newline', '1/run/a\n.txt', 'control characters'],
    ['an encoded slash', '1/run/..%2F..%2Fetc', 'percent-encoded'],
    ['an encoded dot-dot', '1/%2e%2e/x', 'percent-encoded'],
    ['an encoded backslash', '1/run/a%5Cb', 'percent-encoded'],
    ['a double-encoded dot-dot', '1/%252e%252e/x', 'percent-encoded'],
    ['an empty segment', '1//x', 'empty segments'],
    ['a trailing slash', '1/x/', 'empty segments'],
    ['a fragment mark', '1/x#y', "'#'"],
    ['a name over 255 bytes', `1/${'é'.repeat(128)}`, '255 bytes'],
    ['a path over 4096 characters', `1/${'a/'.repeat(2100)}x`, '4096'],
  ];
  for (const [what, path, message] of refused) {
    it(`refuses ${what}`, () => {
      expect(() => artifactPathSegments(path)).toThrow(expect.objectContaining({ status: 400, code: 'INVALID_PARAMETER_VALUE', message: expect.stringContaining(message) }));
    });
  }
});

describe('resolveInside', () => {
  const root = mkdtempSync(join(tmpdir(), 'trainyard-safe-path-'));
  const outside = mkdtempSync(join(tmpdir(), 'trainyard-outside-'));
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });
  mkdirSync(join(root, '1', 'run'), { recursive: true });
  writeFileSync(join(root, '1', 'run', 'file.txt'), 'x');
  writeFileSync(join(outside, 'secret.txt'), 'secret');
  symlinkSync(outside, join(root, '1', 'run', 'escape'));
  symlinkSync(join(outside, 'secret.txt'), join(root, '1', 'run', 'link.txt'));

  it('finds files and folders and reports what is missing', async () => {
    expect((await resolveInside(root, ['1', 'run', 'file.txt'])).stats?.isFile()).toBe(true);
    expect((await resolveInside(root, ['1', 'run'])).stats?.isDirectory()).toBe(true);
    expect(await resolveInside(root, ['1', 'run', 'new', 'x.txt'])).toMatchObject({ stats: undefined, blocked: false, absolute: join(root, '1/run/new/x.txt') });
  });

  it('says when a file stands where a folder is needed', async () => {
    expect(await resolveInside(root, ['1', 'run', 'file.txt', 'x'])).toMatchObject({ stats: undefined, blocked: true });
  });

  it('refuses a symbolic link in the middle or at the end', async () => {
    await expect(resolveInside(root, ['1', 'run', 'escape', 'secret.txt'])).rejects.toMatchObject({ status: 400, message: expect.stringContaining("'1/run/escape' is a symbolic link") });
    await expect(resolveInside(root, ['1', 'run', 'escape'])).rejects.toMatchObject({ status: 400 });
    await expect(resolveInside(root, ['1', 'run', 'link.txt'])).rejects.toMatchObject({ status: 400 });
  });
});
