import { UnpackSync, type ReadEntry } from 'tar';
import { HttpError, badRequest } from '../lib/errors.ts';
import { createEntryCheck, type UnpackLimits } from './snapshot-entries.ts';

export interface ArchiveLimits extends UnpackLimits {
  /** The archive itself, as uploaded. */
  maxArchiveBytes: number;
}

export interface Unpacked {
  files: number;
  /** The files' sizes together. */
  bytes: number;
  archiveBytes: number;
}

/** The rest of the body is left unread: the connection closes after the answer. */
export const archiveTooLarge = (limit: number) =>
  new HttpError(413, 'REQUEST_TOO_LARGE', `the snapshot is larger than the limit of ${limit} bytes`, { Connection: 'close' });

async function nextChunk(chunks: AsyncIterator<Uint8Array>): Promise<IteratorResult<Uint8Array>> {
  try {
    return await chunks.next();
  } catch (error) {
    throw badRequest(`the upload was interrupted before it was complete (${(error as Error).message}); nothing was stored`);
  }
}

/** Only the executable bit of a file counts; everything is readable by the job's user, whoever that is. */
const maskedMode = (entry: ReadEntry) => (entry.type === 'Directory' || ((entry.mode ?? 0) & 0o111) !== 0 ? 0o755 : 0o644);

/**
 * Unpacks a tar.gz arriving as `body` into the empty folder `folder`, a chunk at a time. node-tar's synchronous
 * unpacker does all of a chunk's file work before the next is read, so when this returns or throws nothing is
 * still being written: the caller may remove the folder at once. Throws an HttpError for an archive that breaks
 * the entry rules, is corrupt or cut short (400), or is too large (413). The request is read to its end unless
 * it grows past the limit, so the client gets to read the answer.
 */
export async function unpackArchive(folder: string, body: AsyncIterable<Uint8Array>, limits: ArchiveLimits): Promise<Unpacked> {
  const check = createEntryCheck(limits);
  let refusal: HttpError | undefined;
  const unpack = new UnpackSync({
    cwd: folder,
    strict: true,
    preserveOwner: false,
    chmod: true,
    umask: 0o022,
    processUmask: 0o022,
    filter: (_path, entry) => {
      const readEntry = entry as ReadEntry;
      const verdict = refusal ? refusal : check.admit(readEntry);
      if (verdict === 'skip') return false;
      if (verdict) {
        refusal ??= verdict;
        return false;
      }
      readEntry.mode = maskedMode(readEntry);
      return true;
    },
  });
  unpack.on('error', (error: Error) => {
    refusal ??= badRequest(`the snapshot is not a valid tar.gz archive: ${error.message.replace(/^TAR_\w+: /, '')}`);
  });

  let archiveBytes = 0;
  const chunks = body[Symbol.asyncIterator]();
  for (let next = await nextChunk(chunks); !next.done; next = await nextChunk(chunks)) {
    const chunk = next.value;
    archiveBytes += chunk.byteLength;
    if (archiveBytes > limits.maxArchiveBytes) throw archiveTooLarge(limits.maxArchiveBytes);
    if (!refusal) unpack.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }
  if (!refusal) unpack.end();
  refusal ??= check.finish();
  if (refusal) throw refusal;
  return { files: check.files, bytes: check.bytes, archiveBytes };
}
