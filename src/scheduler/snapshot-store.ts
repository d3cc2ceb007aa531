import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { UserRecord } from '../auth/user-queries.ts';
import type { Db } from '../db/connection.ts';
import { badRequest } from '../lib/errors.ts';
import { listJobsInStates } from './job-queries.ts';
import { archiveTooLarge, unpackArchive } from './snapshot-unpack.ts';

export interface SnapshotInfo {
  id: string;
  files: number;
  /** The files' sizes together, unpacked. */
  bytes: number;
}

export interface SnapshotLimits {
  /** The largest archive an upload may send. */
  maxBytes: number;
  maxUnpackedBytes: number;
  maxEntries: number;
}

export interface SnapshotStore {
  readonly limits: SnapshotLimits;
  /** Unpacks an uploaded tar.gz into a new snapshot that belongs to `user`; `declaredBytes` is the Content-Length. */
  create(user: UserRecord, body: AsyncIterable<Uint8Array>, declaredBytes?: number): Promise<SnapshotInfo>;
  /** Marks `user`'s snapshot as used by a job they submit; 400 when it does not exist or is someone else's. */
  use(user: UserRecord, id: string): void;
  /** The snapshot's files: what a job's container mounts at /workspace. */
  folderOf(id: string): string;
  /** Removes snapshots that no job has used for a week and what unfinished uploads left; the count removed. */
  sweep(): Promise<number>;
}

interface SnapshotMeta {
  owner: number;
  createdAt: number;
  usedAt: number;
  files: number;
  bytes: number;
}

const ID = /^[a-f0-9]{32}$/;
const META_FILE = /^([a-f0-9]{32})\.json$/;
const INCOMING_PREFIX = '.incoming-';
const UNUSED_FOR_MS = 7 * 24 * 3600_000;
/** Code compresses a few times over; a snapshot that unpacks to more than this many times its limit is a bomb. */
const MAX_UNPACK_RATIO = 10;
const MAX_ENTRIES = 250_000;

function readMeta(file: string): SnapshotMeta | undefined {
  try {
    const meta = JSON.parse(readFileSync(file, 'utf8')) as Partial<SnapshotMeta>;
    return Number.isInteger(meta.owner) && typeof meta.usedAt === 'number' ? (meta as SnapshotMeta) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Code snapshots in `<root>/<id>/`, each with `<root>/<id>.json` beside it (owner, sizes, last use): outside the
 * folder, so a job never sees it. An upload unpacks into a hidden folder that is renamed into place only once
 * the whole archive passed, so a snapshot is either complete or absent.
 */
export function createSnapshotStore(deps: { root: string; db: Db; now: () => number; maxBytes: number }): SnapshotStore {
  const { root, db, now, maxBytes } = deps;
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const limits: SnapshotLimits = { maxBytes, maxUnpackedBytes: maxBytes * MAX_UNPACK_RATIO, maxEntries: MAX_ENTRIES };
  const uploading = new Set<string>();
  const metaFile = (id: string) => join(root, `${id}.json`);
  const folderOf = (id: string) => {
    if (!ID.test(id)) throw new Error(`"${id}" is not a snapshot id`);
    return join(root, id);
  };
  const writeMeta = (id: string, meta: SnapshotMeta) => {
    writeFileSync(`${metaFile(id)}.tmp`, JSON.stringify(meta), { mode: 0o600 });
    renameSync(`${metaFile(id)}.tmp`, metaFile(id));
  };

  /** The metadata goes first, at once: from then on no job can claim the snapshot while its files are removed. */
  const remove = async (id: string) => {
    rmSync(metaFile(id), { force: true });
    await rm(folderOf(id), { recursive: true, force: true });
  };

  const sweep = async () => {
    const inUse = new Set(listJobsInStates(db, ['queued', 'starting', 'running']).flatMap((job) => (job.snapshotId ? [job.snapshotId] : [])));
    const names = readdirSync(root);
    for (const name of names.filter((entry) => entry.startsWith(INCOMING_PREFIX) && !uploading.has(entry))) {
      await rm(join(root, name), { recursive: true, force: true });
    }
    const ids = new Set(names.map((name) => (ID.test(name) ? name : META_FILE.exec(name)?.[1])).filter((id) => id !== undefined));
    let removed = 0;
    for (const id of ids) {
      const meta = readMeta(metaFile(id));
      if (meta && inUse.has(id)) writeMeta(id, { ...meta, usedAt: now() });
      else if (!meta || now() - meta.usedAt > UNUSED_FOR_MS) {
        await remove(id);
        removed++;
      }
    }
    return removed;
  };

  return {
    limits,

    async create(user, body, declaredBytes) {
      if (declaredBytes !== undefined && declaredBytes > maxBytes) throw archiveTooLarge(maxBytes);
      await sweep();
      const id = randomBytes(16).toString('hex');
      const incoming = `${INCOMING_PREFIX}${id}`;
      const folder = join(root, incoming);
      uploading.add(incoming);
      try {
        mkdirSync(folder, { mode: 0o755 });
        const { files, bytes } = await unpackArchive(folder, body, {
          maxArchiveBytes: maxBytes,
          maxBytes: limits.maxUnpackedBytes,
          maxEntries: limits.maxEntries,
        });
        // In this order, with nothing awaited between: a snapshot without its metadata is a leftover the sweep removes.
        renameSync(folder, folderOf(id));
        writeMeta(id, { owner: user.id, createdAt: now(), usedAt: now(), files, bytes });
        return { id, files, bytes };
      } catch (error) {
        await rm(folder, { recursive: true, force: true });
        await remove(id);
        throw error;
      } finally {
        uploading.delete(incoming);
      }
    },

    use(user, id) {
      const meta = ID.test(id) ? readMeta(metaFile(id)) : undefined;
      if (!meta || meta.owner !== user.id) throw badRequest(`snapshot ${id} does not exist (or is not yours): upload the code again`);
      writeMeta(id, { ...meta, usedAt: now() });
    },

    folderOf,
    sweep,
  };
}
