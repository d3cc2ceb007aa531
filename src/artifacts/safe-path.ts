import { lstat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { join } from 'node:path';
import { invalidParameterValue } from '../lib/errors.ts';

const MAX_PATH_CHARS = 4096;
const MAX_NAME_BYTES = 255;
/**
 * The router decodes percent-escapes except those of reserved characters (`%2F`) and `%25` itself, so an escape
 * still present here is an attempt to smuggle a separator or a double-encoded `..`: no artifact name needs one.
 */
const PERCENT_ESCAPE = /%[0-9a-f]{2}/i;
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

function problemWith(path: string): string | undefined {
  if (path === '') return 'it is empty';
  if (path.length > MAX_PATH_CHARS) return `it is longer than ${MAX_PATH_CHARS} characters`;
  if (path.startsWith('/')) return 'absolute paths are not allowed';
  if (path.includes('\\')) return 'backslashes are not allowed';
  if (CONTROL_CHARACTER.test(path)) return 'control characters (NUL included) are not allowed';
  if (path.includes('#')) return "'#' is not allowed";
  if (PERCENT_ESCAPE.test(path)) return 'percent-encoded characters are not allowed';
  for (const name of path.split('/')) {
    if (name === '') return 'empty segments (//) are not allowed';
    if (name === '.' || name === '..') return `'${name}' segments are not allowed`;
    if (Buffer.byteLength(name) > MAX_NAME_BYTES) return `a name is longer than ${MAX_NAME_BYTES} bytes`;
  }
  return undefined;
}

function invalidPath(path: string, problem: string) {
  return invalidParameterValue(`Invalid path ${JSON.stringify(path.slice(0, 300))}: ${problem}`);
}

/** The names of a relative artifact path such as `1/<run>/artifacts/model/MLmodel`; 400 for anything that could escape. */
export function artifactPathSegments(path: string): string[] {
  const problem = problemWith(path);
  if (problem) throw invalidPath(path, problem);
  return path.split('/');
}

export interface ResolvedPath {
  absolute: string;
  /** The last component as lstat sees it; undefined when it does not exist. */
  stats: Stats | undefined;
  /** A parent component exists but is a file, so nothing can exist (or be created) at this path. */
  blocked: boolean;
}

/**
 * `segments` below `root`, checking every component that exists with lstat: a symbolic link anywhere is refused,
 * so nothing planted in the store can lead outside it. Missing components are fine; writes create them as folders.
 */
export async function resolveInside(root: string, segments: readonly string[]): Promise<ResolvedPath> {
  const absolute = join(root, ...segments);
  let current = root;
  let stats: Stats | undefined;
  for (const [index, segment] of segments.entries()) {
    current = join(current, segment);
    try {
      stats = await lstat(current);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return { absolute, stats: undefined, blocked: false };
      throw error;
    }
    if (stats.isSymbolicLink()) {
      throw invalidPath(segments.join('/'), `'${segments.slice(0, index + 1).join('/')}' is a symbolic link`);
    }
    if (index < segments.length - 1 && !stats.isDirectory()) return { absolute, stats: undefined, blocked: true };
  }
  return { absolute, stats, blocked: false };
}
