import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SECURITY_POLICY, needsBeyondPolicy, pathsOverlap, type SecurityPolicy } from '../../src/runtime/security-policy.ts';

let root: string;
let allowed: string;
let elsewhere: string;
let policy: SecurityPolicy;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'trainyard-links-'));
  allowed = join(root, 'allowed');
  elsewhere = join(root, 'elsewhere');
  mkdirSync(join(allowed, 'real'), { recursive: true });
  mkdirSync(elsewhere);
  // What a job that mounts the allowed folder read-write could leave there for the next one.
  symlinkSync(elsewhere, join(allowed, 'escape'));
  symlinkSync(join(allowed, 'real'), join(allowed, 'inside'));
  symlinkSync(allowed, join(root, 'alias'));
  symlinkSync(join(allowed, 'real'), join(allowed, 'real', 'self'));
  policy = { ...DEFAULT_SECURITY_POLICY, allowedHostPaths: [allowed] };
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const needs = (hostPath: string, mountRoots: string[] = [], given = policy) =>
  needsBeyondPolicy({ mounts: [{ hostPath, containerPath: '/data', readOnly: true }] }, given, mountRoots);

describe('host paths and links', () => {
  const rows: Array<[string, () => string, boolean]> = [
    ['a real folder in the allowed one', () => join(allowed, 'real'), true],
    ['a folder not made yet in the allowed one', () => join(allowed, 'later'), true],
    ['a link that stays inside the allowed folder', () => join(allowed, 'inside'), true],
    ['a link in the allowed folder that leads out of it', () => join(allowed, 'escape'), false],
    ['a path below such a link, made or not', () => join(allowed, 'escape', 'not-yet'), false],
    ['a link elsewhere that leads into the allowed folder', () => join(root, 'alias', 'real'), false],
  ];
  for (const [name, path, ok] of rows) {
    it(`${ok ? 'allows' : 'refuses'} ${name}`, () => expect(needs(path())).toEqual(ok ? [] : [`host path ${path()}`]));
  }

  it("a link below one of Trainyard's mount roots that leads back to the root is not one of its folders", () => {
    const mountRoot = join(allowed, 'real');
    expect(needs(join(mountRoot, 'self'), [mountRoot], DEFAULT_SECURITY_POLICY)).toEqual([`host path ${join(mountRoot, 'self')}`]);
    expect(needs(join(mountRoot, 'job-1'), [mountRoot], DEFAULT_SECURITY_POLICY)).toEqual([]);
  });

  it('paths overlap as written or where links lead', () => {
    expect(pathsOverlap(join(root, 'alias'), allowed)).toBe(true);
    expect(pathsOverlap(root, join(allowed, 'real'))).toBe(true);
    expect(pathsOverlap(join(allowed, 'escape'), elsewhere)).toBe(true);
    expect(pathsOverlap(join(allowed, 'real'), elsewhere)).toBe(false);
    expect(pathsOverlap(`${allowed}-other`, allowed)).toBe(false);
  });
});
