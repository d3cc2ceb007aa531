import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync } from 'node:fs';
import { lstat, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { invalidParameterValue, resourceDoesNotExist } from '../lib/errors.ts';
import { newId } from '../lib/secrets.ts';
import { artifactPathSegments } from './safe-path.ts';
import { asHttpError, writeStreamed, type Body } from './streamed-write.ts';
import { createUploadSigner, type PartGrant, type UploadSigner } from './upload-signature.ts';

/** One part as the client reports it back on completion: the ETag its PUT answered. */
export interface UploadedPart {
  partNumber: number;
  etag: string;
}

export interface NewUpload {
  uploadId: string;
  /** Parts 1..N in order, each with the signature its URL carries. */
  parts: Array<{ grant: PartGrant; signature: string }>;
}

export interface MultipartUploads {
  /** Starts an upload of `numParts` parts to the store path `target`; refuses a target that could not be written. */
  create(target: string, numParts: number, creator: string): Promise<NewUpload>;
  /** Streams one part to disk if `signature` grants it; answers the part's ETag (a hash of its bytes). */
  writePart(grant: PartGrant, signature: string, body: Body, expectedBytes?: number): Promise<string>;
  /** Joins parts 1..N, each as the ETag names it, into `target` in one atomic step; any mismatch changes nothing. */
  complete(target: string, uploadId: string, parts: readonly UploadedPart[]): Promise<void>;
  abort(target: string, uploadId: string): Promise<void>;
}

/** S3's limit, which MLflow's client never reaches: it sizes parts at 100 MB by default. */
const MAX_PARTS = 10_000;
/** An upload, and every part URL of it, lives this long; older ones are swept. */
const UPLOAD_TTL_MS = 24 * 60 * 60 * 1000;
const MANIFEST = 'manifest.json';
const UPLOAD_ID = /^[0-9a-f]{32}$/;
/** `<part number>.<sha256 of its bytes>.part`: the name carries the ETag, so nothing else records it. */
const PART_FILE = /^(\d+)\.([0-9a-f]{64})\.part$/;
const READ_CHUNK_BYTES = 1024 * 1024;

const manifestSchema = z.object({
  target: z.string(),
  runFolder: z.string(),
  numParts: z.int(),
  creator: z.string(),
  createdAt: z.int(),
});
type Manifest = z.infer<typeof manifestSchema>;

/** `"abc"`, `W/"abc"` and `abc` name the same part: clients differ in how they echo an ETag back. */
function bareEtag(etag: string): string {
  return etag.replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
}

async function* concatenation(files: readonly string[]): AsyncGenerator<Uint8Array> {
  for (const file of files) yield* createReadStream(file, { highWaterMark: READ_CHUNK_BYTES });
}

/** The part files of each part number: a retried part may leave more than one, told apart by their hashes. */
async function storedParts(folder: string): Promise<Map<number, Set<string>>> {
  const parts = new Map<number, Set<string>>();
  for (const name of await readdir(folder)) {
    const match = PART_FILE.exec(name);
    if (!match) continue;
    const number = Number(match[1]);
    parts.set(number, (parts.get(number) ?? new Set()).add(match[2]!));
  }
  return parts;
}

/** The files to join, in order, after checking that the client lists every part once with the ETag it was given. */
function chosenParts(folder: string, numParts: number, listed: readonly UploadedPart[], stored: Map<number, Set<string>>): string[] {
  const etags = new Map<number, string>();
  for (const { partNumber, etag } of listed) {
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > numParts) {
      throw invalidParameterValue(`Invalid part_number ${partNumber}: this upload has parts 1 to ${numParts}`);
    }
    if (etags.has(partNumber)) throw invalidParameterValue(`Part ${partNumber} is listed more than once`);
    etags.set(partNumber, bareEtag(etag));
  }
  const files: string[] = [];
  for (let number = 1; number <= numParts; number++) {
    const etag = etags.get(number);
    if (etag === undefined) throw invalidParameterValue(`Part ${number} of ${numParts} is missing from the parts listed`);
    if (!stored.has(number)) throw invalidParameterValue(`Part ${number} of ${numParts} was never uploaded`);
    if (!stored.get(number)!.has(etag)) throw invalidParameterValue(`The etag of part ${number} does not match the bytes uploaded for it`);
    files.push(join(folder, `${number}.${etag}.part`));
  }
  return files;
}

/**
 * MLflow's proxied multipart upload over a local folder. Each upload is a folder under `dir` (inside the store, so
 * the joined file is renamed into place on the same file system) holding a manifest and the parts streamed so far.
 */
export function createMultipartUploads(deps: {
  store: { write(path: string, body: Body): Promise<void>; assertWritable(path: string): Promise<void> };
  dir: string;
  now: () => number;
  signer?: UploadSigner;
}): MultipartUploads {
  const { store, dir, now } = deps;
  const signer = deps.signer ?? createUploadSigner({ now });
  /** Uploads being joined: their parts must neither change nor vanish meanwhile. */
  const completing = new Set<string>();
  mkdirSync(dir, { recursive: true, mode: 0o700 });

  const folderOf = (uploadId: string) => join(dir, uploadId);
  const expired = (manifest: Manifest) => manifest.createdAt + UPLOAD_TTL_MS <= now();
  const unknown = (uploadId: string) =>
    resourceDoesNotExist(`No multipart upload with id=${JSON.stringify(uploadId.slice(0, 100))}: it was never created here, or it was completed, aborted or has expired`);
  const removeFolder = (uploadId: string) => rm(folderOf(uploadId), { recursive: true, force: true, maxRetries: 3 });

  async function readManifest(uploadId: string): Promise<Manifest | undefined> {
    if (!UPLOAD_ID.test(uploadId)) return undefined;
    try {
      return manifestSchema.parse(JSON.parse(await readFile(join(folderOf(uploadId), MANIFEST), 'utf8')));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === undefined || code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw error;
    }
  }

  /** The live upload `uploadId`, and only for the target it was created for. */
  async function openUpload(uploadId: string, target?: string): Promise<Manifest> {
    const manifest = await readManifest(uploadId);
    if (!manifest || expired(manifest) || (target !== undefined && manifest.target !== target)) throw unknown(uploadId);
    return manifest;
  }

  /** Synchronous, so that no other request slips in between the check and a claim that follows it. */
  const assertIdle = (uploadId: string) => {
    if (completing.has(uploadId)) throw invalidParameterValue(`Multipart upload ${uploadId} is being completed`);
  };
  const ageOnDisk = async (path: string) => Date.now() - ((await lstat(path).catch(() => undefined))?.mtimeMs ?? Date.now());

  /** Expired uploads, and folders a crash left without a manifest (by their age on disk). */
  async function sweep(): Promise<void> {
    for (const name of await readdir(dir)) {
      if (completing.has(name)) continue;
      const manifest = await readManifest(name);
      const stale = manifest ? expired(manifest) : (await ageOnDisk(join(dir, name))) > UPLOAD_TTL_MS;
      if (stale) await removeFolder(name);
    }
  }

  return {
    async create(target, numParts, creator) {
      if (!Number.isInteger(numParts) || numParts < 1 || numParts > MAX_PARTS) {
        throw invalidParameterValue(`Invalid num_parts ${numParts}: it must be between 1 and ${MAX_PARTS}`);
      }
      const segments = artifactPathSegments(target);
      await store.assertWritable(target);
      const uploadId = newId();
      const createdAt = now();
      const manifest: Manifest = { target, runFolder: segments.slice(0, 2).join('/'), numParts, creator, createdAt };
      await mkdir(folderOf(uploadId), { recursive: true, mode: 0o700 });
      await writeFile(join(folderOf(uploadId), MANIFEST), JSON.stringify(manifest), { flag: 'wx' });
      await sweep();
      const expiresAt = String(createdAt + UPLOAD_TTL_MS);
      const parts = Array.from({ length: numParts }, (_, index) => {
        const grant = { uploadId, partNumber: String(index + 1), expiresAt };
        return { grant, signature: signer.sign(grant) };
      });
      return { uploadId, parts };
    },

    async writePart(grant, signature, body, expectedBytes) {
      signer.verify(grant, signature);
      const { uploadId } = grant;
      const manifest = await openUpload(uploadId);
      assertIdle(uploadId);
      const partNumber = Number(grant.partNumber);
      if (partNumber < 1 || partNumber > manifest.numParts) {
        throw invalidParameterValue(`Invalid part number ${partNumber}: this upload has parts 1 to ${manifest.numParts}`);
      }
      const temporary = join(folderOf(uploadId), `${partNumber}.${newId()}.tmp`);
      const hash = createHash('sha256');
      try {
        await writeStreamed(temporary, body, expectedBytes, (chunk) => hash.update(chunk));
        const digest = hash.digest('hex');
        await rename(temporary, join(folderOf(uploadId), `${partNumber}.${digest}.part`));
        return `"${digest}"`;
      } catch (error) {
        await rm(temporary, { force: true });
        // The folder went away under the part: the upload was aborted (or swept) meanwhile.
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw unknown(uploadId);
        throw asHttpError(error, `part ${partNumber} of ${manifest.target}`);
      }
    },

    async complete(target, uploadId, parts) {
      const manifest = await openUpload(uploadId, target);
      assertIdle(uploadId);
      completing.add(uploadId);
      try {
        const files = chosenParts(folderOf(uploadId), manifest.numParts, parts, await storedParts(folderOf(uploadId)));
        await store.write(target, concatenation(files));
        await removeFolder(uploadId);
      } finally {
        completing.delete(uploadId);
      }
    },

    async abort(target, uploadId) {
      await openUpload(uploadId, target);
      assertIdle(uploadId);
      await removeFolder(uploadId);
    },
  };
}
