import { constants, createWriteStream, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { lstat, mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { badRequest, invalidParameterValue, resourceDoesNotExist } from '../lib/errors.ts';
import { newId } from '../lib/secrets.ts';
import { artifactPathSegments, resolveInside } from './safe-path.ts';

/** One entry of a folder listing, named relative to the listed folder. */
export interface ArtifactEntry {
  name: string;
  isDir: boolean;
  /** Bytes, for files. */
  size?: number;
}

export interface ArtifactFile {
  size: number;
  stream: Readable;
}

export interface ArtifactStore {
  readonly root: string;
  /**
   * Streams `body` into `path` (relative, like `1/<run>/artifacts/model.pkl`) in constant memory. The bytes go to
   * a partial file that is renamed into place only once complete, so a broken upload leaves nothing behind and an
   * existing file is replaced whole or not at all. `expectedBytes` (the request's Content-Length) catches truncation.
   */
  write(path: string, body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, expectedBytes?: number): Promise<void>;
  read(path: string): Promise<ArtifactFile>;
  /** The folder's entries by name; none for a missing folder or a file, as MLflow answers. '' lists the root. */
  list(path: string): Promise<ArtifactEntry[]>;
  /** Removes a file or a whole folder; false when there was nothing there. */
  remove(path: string): Promise<boolean>;
}

/**
 * Partial uploads live here, beside the experiment folders (whose names are numbers), so they share the store's
 * file system (rename is atomic), never show in a listing and cannot collide with an artifact's name.
 */
const PARTIAL_DIR = '.partial';
/** Large reads: a download costs per chunk on its way through web streams. */
const READ_CHUNK_BYTES = 256 * 1024;
/** A partial file untouched this long belongs to a process that died; a live upload keeps writing to its own. */
const ABANDONED_AFTER_MS = 60 * 60 * 1000;

class UploadInterrupted extends Error {}

/** ELOOP: O_NOFOLLOW met a link swapped in after the check. */
const FILE_CONFLICTS = new Set(['ENOTDIR', 'EISDIR', 'EEXIST', 'ENAMETOOLONG', 'EINVAL', 'ELOOP']);

/** File-system refusals that the request caused become 4xx answers; anything else is the server's problem. */
function asHttpError(error: unknown, path: string): unknown {
  if (error instanceof UploadInterrupted) {
    return badRequest(`the upload of ${path} was interrupted before it was complete (${error.message}); nothing was stored`);
  }
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return resourceDoesNotExist(`No artifact at ${path}`);
  if (code && FILE_CONFLICTS.has(code)) return invalidParameterValue(`Cannot store ${path}: it conflicts with an existing file or folder (${code})`);
  return error;
}

async function* countedBody(body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, expectedBytes: number | undefined): AsyncGenerator<Uint8Array> {
  let received = 0;
  try {
    for await (const chunk of body) {
      received += chunk.byteLength;
      yield chunk;
    }
  } catch (error) {
    throw new UploadInterrupted('the request body failed', { cause: error });
  }
  if (expectedBytes !== undefined && received !== expectedBytes) {
    throw new UploadInterrupted(`received ${received} of ${expectedBytes} bytes`);
  }
}

function removeAbandonedPartials(partialDir: string): void {
  for (const name of readdirSync(partialDir)) {
    const path = join(partialDir, name);
    const modified = statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? Date.now();
    if (Date.now() - modified > ABANDONED_AFTER_MS) rmSync(path, { force: true });
  }
}

/** What `work` finds, or `fallback` when what it looks at vanished meanwhile (a concurrent delete). */
async function unlessVanished<T>(work: Promise<T>, fallback: T): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return fallback;
    throw error;
  }
}

/** Files of runs and logged models under `root` (the data directory's artifacts/ folder). */
export function createArtifactStore(deps: { root: string }): ArtifactStore {
  const { root } = deps;
  const partialDir = join(root, PARTIAL_DIR);
  mkdirSync(partialDir, { recursive: true, mode: 0o700 });
  removeAbandonedPartials(partialDir);

  const segmentsOf = (path: string) => (path === '' ? [] : artifactPathSegments(path));

  return {
    root,

    async write(path, body, expectedBytes) {
      const target = await resolveInside(root, artifactPathSegments(path));
      if (target.blocked) throw invalidParameterValue(`Cannot store ${path}: a folder in its path is a file`);
      if (target.stats?.isDirectory()) throw invalidParameterValue(`Cannot store ${path}: it is a folder`);
      const partial = join(partialDir, `${newId()}.part`);
      try {
        await mkdir(partialDir, { recursive: true });
        await pipeline(countedBody(body, expectedBytes), createWriteStream(partial, { flags: 'wx' }));
        await mkdir(dirname(target.absolute), { recursive: true });
        await rename(partial, target.absolute);
      } catch (error) {
        await rm(partial, { force: true });
        throw asHttpError(error, path);
      }
    },

    async read(path) {
      const target = await resolveInside(root, artifactPathSegments(path));
      if (!target.stats) throw resourceDoesNotExist(`No artifact at ${path}`);
      if (target.stats.isDirectory()) throw invalidParameterValue(`${path} is a folder: list it, or download the files in it`);
      if (!target.stats.isFile()) throw invalidParameterValue(`${path} is not a regular file`);
      // O_NOFOLLOW and O_NONBLOCK: a link or a FIFO swapped in since the check neither leads out nor hangs.
      const handle = await open(target.absolute, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch((error: unknown) => {
        throw asHttpError(error, path);
      });
      const stats = await handle.stat();
      if (!stats.isFile()) {
        await handle.close();
        throw invalidParameterValue(`${path} is not a regular file`);
      }
      return { size: stats.size, stream: handle.createReadStream({ highWaterMark: READ_CHUNK_BYTES }) };
    },

    async list(path) {
      const target = await resolveInside(root, segmentsOf(path));
      const folder = path === '' ? root : target.absolute;
      if (path !== '' && !target.stats?.isDirectory()) return [];
      const entries: ArtifactEntry[] = [];
      for (const entry of await unlessVanished(readdir(folder, { withFileTypes: true }), [])) {
        if (path === '' && entry.name === PARTIAL_DIR) continue;
        if (entry.isDirectory()) entries.push({ name: entry.name, isDir: true });
        if (!entry.isFile()) continue;
        const size = await unlessVanished(lstat(join(folder, entry.name)).then((stats) => stats.size), undefined);
        if (size !== undefined) entries.push({ name: entry.name, isDir: false, size });
      }
      return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    },

    async remove(path) {
      const target = await resolveInside(root, artifactPathSegments(path));
      if (!target.stats) return false;
      await rm(target.absolute, { recursive: true, force: true });
      return true;
    },
  };
}
