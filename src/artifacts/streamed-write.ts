import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { badRequest, invalidParameterValue, resourceDoesNotExist } from '../lib/errors.ts';

export type Body = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

class UploadInterrupted extends Error {}

/** ELOOP: O_NOFOLLOW met a link swapped in after the check. */
const FILE_CONFLICTS = new Set(['ENOTDIR', 'EISDIR', 'EEXIST', 'ENAMETOOLONG', 'EINVAL', 'ELOOP']);

/** File-system refusals that the request caused become 4xx answers; anything else is the server's problem. */
export function asHttpError(error: unknown, path: string): unknown {
  if (error instanceof UploadInterrupted) {
    return badRequest(`the upload of ${path} was interrupted before it was complete (${error.message}); nothing was stored`);
  }
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return resourceDoesNotExist(`No artifact at ${path}`);
  if (code && FILE_CONFLICTS.has(code)) return invalidParameterValue(`Cannot store ${path}: it conflicts with an existing file or folder (${code})`);
  return error;
}

async function* countedBody(body: Body, expectedBytes: number | undefined, observe: (chunk: Uint8Array) => void): AsyncGenerator<Uint8Array> {
  let received = 0;
  try {
    for await (const chunk of body) {
      received += chunk.byteLength;
      observe(chunk);
      yield chunk;
    }
  } catch (error) {
    throw new UploadInterrupted('the request body failed', { cause: error });
  }
  if (expectedBytes !== undefined && received !== expectedBytes) {
    throw new UploadInterrupted(`received ${received} of ${expectedBytes} bytes`);
  }
}

/**
 * Streams `body` into the new file `file` in constant memory, handing each chunk to `observe` on its way (a hash).
 * `expectedBytes` (the request's Content-Length) catches truncation. On any failure the file is removed and the
 * error is thrown as it came: `asHttpError` words it for the caller.
 */
export async function writeStreamed(file: string, body: Body, expectedBytes?: number, observe: (chunk: Uint8Array) => void = () => {}): Promise<void> {
  try {
    await pipeline(countedBody(body, expectedBytes, observe), createWriteStream(file, { flags: 'wx' }));
  } catch (error) {
    await rm(file, { force: true });
    throw error;
  }
}
