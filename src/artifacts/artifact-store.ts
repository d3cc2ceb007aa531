import { constants, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { lstat, mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { invalidParameterValue, resourceDoesNotExist } from '../lib/errors.ts';
import { newId } from '../lib/secrets.ts';
import { artifactPathSegments, resolveInside } from './safe-path.ts';
import { createMultipartUploads, type MultipartUploads } from './multipart-upload.ts';
import { asHttpError, writeStreamed, type Body } from './streamed-write.ts';

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
  write(path: string, body: Body, expectedBytes?: number): Promise<void>;
  read(path: string): Promise<ArtifactFile>;
  /** The folder's entries by name; none for a missing folder or a file, as MLflow answers. '' lists the root. */
  list(path: string): Promise<ArtifactEntry[]>;
  /** Removes a file or a whole folder; false when there was nothing there. */
  remove(path: string): Promise<boolean>;
  /** 400 unless a file could be stored at `path`: no link on the way, no file where a folder must be, not a folder. */
  assertWritable(path: string): Promise<void>;
  /** MLflow's multipart upload: parts streamed to disk one by one, joined into one artifact at the end. */
  readonly multipart: MultipartUploads;
}

/**
 * Partial uploads live here, beside the experiment folders (whose names are numbers), so they share the store's
 * file system (rename is atomic), never show in a listing and cannot collide with an artifact's name.
 */
const PARTIAL_DIR = '.partial';
/** The parts of multipart uploads, one folder per upload; hidden and kept apart like the partial files. */
const UPLOADS_DIR = '.uploads';
/** Large reads: a download costs per chunk on its way through web streams. */
const READ_CHUNK_BYTES = 256 * 1024;
/** A partial file untouched this long belongs to a process that died; a live upload keeps writing to its own. */
const ABANDONED_AFTER_MS = 60 * 60 * 1000;

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
export function createArtifactStore(deps: { root: string; now?: () => number }): ArtifactStore {
  const { root, now = Date.now } = deps;
  const partialDir = join(root, PARTIAL_DIR);
  mkdirSync(partialDir, { recursive: true, mode: 0o700 });
  removeAbandonedPartials(partialDir);

  const segmentsOf = (path: string) => (path === '' ? [] : artifactPathSegments(path));

  /** Where `path` is stored, once it is sure that a file may be written there. */
  const writableTarget = async (path: string): Promise<string> => {
    const target = await resolveInside(root, artifactPathSegments(path));
    if (target.blocked) throw invalidParameterValue(`Cannot store ${path}: a folder in its path is a file`);
    if (target.stats?.isDirectory()) throw invalidParameterValue(`Cannot store ${path}: it is a folder`);
    return target.absolute;
  };

  const files: Omit<ArtifactStore, 'multipart'> = {
    root,

    async assertWritable(path) {
      await writableTarget(path);
    },

    async write(path, body, expectedBytes) {
      const target = await writableTarget(path);
      const partial = join(partialDir, `${newId()}.part`);
      try {
        await mkdir(partialDir, { recursive: true });
        await writeStreamed(partial, body, expectedBytes);
        await mkdir(dirname(target), { recursive: true });
        await rename(partial, target);
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
        // At the root only experiments, whose names are numbers: the store's own folders start with a dot.
        if (path === '' && entry.name.startsWith('.')) continue;
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
  return { ...files, multipart: createMultipartUploads({ store: files, dir: join(root, UPLOADS_DIR), now }) };
}
