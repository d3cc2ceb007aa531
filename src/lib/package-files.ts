import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getAsset, getAssetKeys, getRawAsset, isSea } from 'node:sea';
import { fileURLToPath } from 'node:url';

/**
 * The one place that knows where the files the appliance reads from its own package at run time come from. The shipped
 * binary (scripts/build-binary.ts) carries each of them as a SEA asset keyed by its path in the package; from a checkout
 * they are read where they lie. Paths are relative to the package root: `migrations/meta/_journal.json`,
 * `web/static/app.css`, `node_modules/htmx.org/dist/htmx.min.js`.
 */
export function readPackageFile(path: string): Buffer {
  if (isSea()) return Buffer.from(getAsset(path));
  return readFileSync(join(packageRoot(), path));
}

// Evaluated on demand: the binary's bundle has no module URL.
const packageRoot = () => fileURLToPath(new URL('../..', import.meta.url));

/** The asset key of an addon in the binary: its name and content hash, which also name the file it is loaded from. */
export function addonAssetKey(name: string, bytes: Uint8Array): string {
  return `${name}-${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}.node`;
}

/**
 * An addon the binary carries (under addonAssetKey), loaded; undefined from a checkout, where its package finds the
 * addon itself. dlopen needs a file: the addon is written once into `dir` (the caller's private directory) under its
 * key, so a restart or a second process loads the same file without reading the addon's bytes again, and a binary
 * with another addon writes another file.
 */
export function loadEmbeddedAddon(name: string, dir: string): object | undefined {
  if (!isSea()) return undefined;
  const key = getAssetKeys().find((candidate) => candidate.startsWith(`${name}-`) && candidate.endsWith('.node'));
  if (!key) throw new Error(`this binary carries no ${name} addon`);
  const file = join(dir, `.${key}`);
  if (!existsSync(file)) {
    // Written aside and renamed, so a process starting at the same moment never loads half a file.
    const partial = `${file}.${process.pid}.partial`;
    writeFileSync(partial, new Uint8Array(getRawAsset(key)), { mode: 0o700 });
    renameSync(partial, file);
  }
  const module = { exports: {} };
  process.dlopen(module, file);
  return module.exports;
}
