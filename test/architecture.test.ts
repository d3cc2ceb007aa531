import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Imports run one way: main -> app -> server -> domains -> db -> lib. A layer may import its own layer
 * and the layers below it; domains may call each other; views are pure, use lib's helpers and see the domains' types only;
 * the server sees the App's type only.
 */
const LAYERS = ['lib', 'base', 'db', 'domain', 'views', 'server', 'app', 'entry'] as const;
type Layer = (typeof LAYERS)[number];

function layerOf(file: string): Layer {
  const path = relative(ROOT, file);
  if (path === 'package.json') return 'lib';
  if (path.startsWith('web/views/')) return 'views';
  const [, top] = path.split('/');
  if (path === 'src/main.ts' || path === 'src/appliance.ts' || top === 'cli') return 'entry';
  if (path === 'src/app.ts') return 'app';
  if (path === 'src/config.ts' || path === 'src/version.ts') return 'base';
  if (top === 'server') return 'server';
  if (top === 'db') return 'db';
  if (top === 'lib') return 'lib';
  return 'domain';
}

function* sourceFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(path);
    else if (entry.name.endsWith('.ts')) yield path;
  }
}

const IMPORT = /^\s*(import|export)\s+(type\s+)?[^'"]*?from\s+'(\.[^']+)'|^\s*import\s+'(\.[^']+)'/gm;

function importsOf(file: string): Array<{ target: string; typeOnly: boolean }> {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(IMPORT)].map((match) => ({
    target: resolve(dirname(file), match[3] ?? match[4]!),
    typeOnly: Boolean(match[2]),
  }));
}

function allowed(from: Layer, to: Layer, typeOnly: boolean): boolean {
  if (from === 'views') return to === 'views' || to === 'lib' || (typeOnly && to === 'domain');
  if (to === 'views') return from === 'server';
  if (from === 'domain' && to === 'domain') return true;
  // The App type describes what the server is handed; it is erased at run time.
  if (from === 'server' && to === 'app') return typeOnly;
  return LAYERS.indexOf(to) <= LAYERS.indexOf(from) && (to !== 'entry' || from === 'entry');
}

describe('architecture', () => {
  const files = [...sourceFiles(join(ROOT, 'src')), ...sourceFiles(join(ROOT, 'web/views'))];

  it('finds the source files', () => {
    expect(files.length).toBeGreaterThan(30);
  });

  it('imports run one way: main -> app -> server -> domains -> db -> lib', () => {
    const violations: string[] = [];
    for (const file of files) {
      for (const { target, typeOnly } of importsOf(file)) {
        const from = layerOf(file);
        const to = layerOf(target);
        if (relative(ROOT, target).startsWith('test/') || !allowed(from, to, typeOnly)) {
          violations.push(`${relative(ROOT, file)} (${from}) imports ${relative(ROOT, target)} (${to})`);
        }
      }
    }
    expect(violations).toEqual([]);
  });

  it('only a domain touches its own tables', () => {
    const violations: string[] = [];
    for (const file of files) {
      const path = relative(ROOT, file);
      for (const { target } of importsOf(file)) {
        const schema = /^src\/db\/schema\/(.+)\.ts$/.exec(relative(ROOT, target))?.[1];
        if (!schema || schema === 'index') continue;
        const owner = path.startsWith(`src/${schema}/`) && /-queries\.ts$|store\.ts$/.test(path);
        if (!owner && !path.startsWith('src/db/')) violations.push(`${path} imports the ${schema} tables`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('the architecture check catches a wrong-way import', () => {
    expect(allowed('domain', 'server', false)).toBe(false);
    expect(allowed('lib', 'domain', false)).toBe(false);
    expect(allowed('db', 'domain', false)).toBe(false);
    expect(allowed('server', 'app', false)).toBe(false);
    expect(allowed('server', 'app', true)).toBe(true);
    expect(allowed('views', 'domain', false)).toBe(false);
    expect(allowed('views', 'domain', true)).toBe(true);
    expect(allowed('server', 'domain', false)).toBe(true);
  });
});
