import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from '../lib/errors.ts';
import type { AsyncRequestRecord } from './async-request-queries.ts';

/** Where a call's result is read: /serve/<name>/async/<id>. */
export const asyncResultPath = (call: Pick<AsyncRequestRecord, 'deployment' | 'id'>) => `/serve/${encodeURIComponent(call.deployment)}/async/${call.id}`;

/** A call while it waits or runs, or once it failed: its state, not its response. */
export function asyncRequestJson(call: AsyncRequestRecord) {
  return {
    id: call.id,
    status: call.state,
    deployment: call.deployment,
    path: call.path,
    attempts: call.attempts,
    /** Why the last attempt failed; kept while a retried call waits. */
    error: call.error,
    /** The replica's last answer, for a call that failed on one. */
    responseStatus: call.responseStatus,
    createdAt: call.createdAt,
    startedAt: call.startedAt,
    finishedAt: call.finishedAt,
    result: asyncResultPath(call),
  };
}

const tooLarge = (maxBytes: number) => new HttpError(413, 'PAYLOAD_TOO_LARGE', `the request body is larger than the ${maxBytes} bytes an asynchronous call may carry`);

/**
 * The whole request body; a 413 as soon as it says or shows that it is larger than `maxBytes`. The rest of a body
 * that is too large is read and dropped, so that the caller gets the answer and the connection stays usable.
 */
export function readCappedBody(incoming: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const refuse = () => {
      incoming.removeListener('data', collect).removeListener('end', done).resume();
      reject(tooLarge(maxBytes));
    };
    const chunks: Buffer[] = [];
    let size = 0;
    const collect = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) return refuse();
      chunks.push(chunk);
    };
    const done = () => resolve(Buffer.concat(chunks));
    if (Number(incoming.headers['content-length'] ?? 0) > maxBytes) return refuse();
    incoming.on('data', collect).once('end', done).once('error', reject);
  });
}

export function sendJson(outgoing: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  outgoing.writeHead(status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  outgoing.end(text);
}

/** A succeeded call's result: the replica's status, content type and body as it answered them. */
export function sendStoredResponse(outgoing: ServerResponse, call: AsyncRequestRecord): void {
  const body = call.responseBody ?? Buffer.alloc(0);
  outgoing.writeHead(call.responseStatus ?? 200, {
    ...(call.responseContentType && { 'Content-Type': call.responseContentType }),
    'Content-Length': body.length,
    'Cache-Control': 'no-store',
    'X-Trainyard-Async-Status': 'succeeded',
  });
  outgoing.end(body);
}
