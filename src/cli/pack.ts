import { createWriteStream, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import ignore, { type Ignore } from 'ignore';
import { create as createTar } from 'tar';
import { formatBytes } from '../lib/byte-size.ts';
import { CliError, EXIT } from './cli-error.ts';

const IGNORE_FILES = ['.gitignore', '.yardignore'];
const ALWAYS_SKIPPED = new Set(['.git']);

export interface PackList {
  /** Paths relative to the folder, `/`-separated: files and links. */
  paths: string[];
  bytes: number;
  /** The largest files first, for the message when the folder is too large. */
  largest: Array<{ path: string; size: number }>;
  /** What cannot travel, with why. */
  skipped: string[];
}

interface Rules {
  /** The folder the rules' file is in, relative to the packed folder. */
  base: string;
  rules: Ignore;
}

/** As git decides: the deepest ignore file with a rule for the path wins, and its last matching rule. */
function isIgnored(scopes: readonly Rules[], path: string, isDirectory: boolean): boolean {
  for (let index = scopes.length - 1; index >= 0; index--) {
    const { base, rules } = scopes[index]!;
    const verdict = rules.test(`${posix.relative(base, path)}${isDirectory ? '/' : ''}`);
    if (verdict.ignored) return true;
    if (verdict.unignored) return false;
  }
  return false;
}

const staysInside = (path: string, target: string) => {
  if (posix.isAbsolute(target)) return false;
  const resolved = posix.normalize(posix.join(posix.dirname(path), target));
  return resolved !== '..' && !resolved.startsWith('../');
};

/**
 * What `yard run` packs of `root`: everything but `.git` and what `.gitignore` and `.yardignore` files (in any
 * folder, for the folder below them) leave out. Links are kept as links when they stay inside the folder.
 */
export function listFolder(root: string): PackList {
  const files: Array<{ path: string; size: number }> = [];
  const paths: string[] = [];
  const skipped: string[] = [];

  const visit = (folder: string, inherited: readonly Rules[]) => {
    const absolute = posix.join(root, folder);
    const entries = readdirSync(absolute, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
    const own = entries.filter((entry) => IGNORE_FILES.includes(entry.name) && entry.isFile());
    const scopes = own.length === 0 ? inherited : [...inherited, { base: folder, rules: ignore().add(own.map((entry) => readFileSync(posix.join(absolute, entry.name), 'utf8')).join('\n')) }];
    for (const entry of entries) {
      const path = folder ? `${folder}/${entry.name}` : entry.name;
      if (ALWAYS_SKIPPED.has(entry.name) || isIgnored(scopes, path, entry.isDirectory())) continue;
      if (entry.isDirectory()) visit(path, scopes);
      else if (entry.isFile()) {
        const { size } = lstatSync(posix.join(root, path));
        files.push({ path, size });
        paths.push(path);
      } else if (entry.isSymbolicLink()) {
        const target = readlinkSync(posix.join(root, path));
        if (staysInside(path, target)) paths.push(path);
        else skipped.push(`${path} (a link to ${target}, outside the folder)`);
      } else skipped.push(`${path} (not a file, folder or link)`);
    }
  };
  visit('', []);
  return {
    paths,
    bytes: files.reduce((sum, file) => sum + file.size, 0),
    largest: files.sort((a, b) => b.size - a.size).slice(0, 3),
    skipped,
  };
}

function tooLarge(list: PackList, maxBytes: number): CliError {
  const largest = list.largest.map((file) => `${file.path} (${formatBytes(file.size)})`).join(', ');
  return new CliError(
    `the packed folder would be larger than the limit of ${formatBytes(maxBytes)}; the largest files are ${largest}: ` +
      'list what the job does not need in .yardignore (or .gitignore)',
    EXIT.usage,
  );
}

/**
 * Packs the listed paths of `root` into `file` as a gzipped tar, refusing (before anything is uploaded) once it
 * grows past `maxBytes`; `onChunk` sees each packed chunk's size. Returns the archive's size.
 */
export async function packFolder(root: string, list: PackList, file: string, maxBytes: number, onChunk: (bytes: number) => void = () => {}): Promise<number> {
  let packed = 0;
  const warnings: string[] = [];
  const tar = createTar({ gzip: true, cwd: root, portable: true, noDirRecurse: true, follow: false, onwarn: (_code, message) => warnings.push(message) }, list.paths);
  await pipeline(
    tar,
    async function* (chunks: AsyncIterable<Buffer>) {
      for await (const chunk of chunks) {
        packed += chunk.length;
        if (packed > maxBytes) throw tooLarge(list, maxBytes);
        onChunk(chunk.length);
        yield chunk;
      }
    },
    createWriteStream(file, { mode: 0o600 }),
  );
  for (const warning of warnings) process.stderr.write(`yard: while packing: ${warning}\n`);
  return packed;
}
