import type { AsyncRequestRecord } from './async-request-queries.ts';

/** How one attempt at a queued call ended. */
export type AsyncCallResult =
  | { kind: 'answered'; status: number; contentType: string | null; body: Buffer }
  /** The replica could not be reached or dropped the connection: another attempt may succeed. */
  | { kind: 'unreachable'; reason: string }
  /** Trying again would end the same way. */
  | { kind: 'failed'; reason: string };

export interface AsyncCallLimits {
  /** From sending the request to the response's last byte. */
  timeoutMs: number;
  maxResponseBytes: number;
}

const CONNECTION_FAILURES: Record<string, string> = {
  ECONNREFUSED: 'the replica refused the connection',
  ECONNRESET: 'the replica closed the connection before answering',
  UND_ERR_SOCKET: 'the replica closed the connection before answering',
  EPIPE: 'the replica closed the connection before answering',
  UND_ERR_CONNECT_TIMEOUT: 'could not connect to the replica',
  EHOSTUNREACH: 'the replica cannot be reached',
  ENETUNREACH: 'the replica cannot be reached',
  EADDRNOTAVAIL: 'the replica cannot be reached',
  ENOTFOUND: 'the replica cannot be reached',
  EAI_AGAIN: 'the replica cannot be reached',
};

/** The response body, or undefined once it grows past `maxBytes` (the rest is not read). */
async function readCapped(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<Buffer | undefined> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (!body) return Buffer.alloc(0);
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > maxBytes) {
      await body.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Sends a queued call to the replica at base URL `upstream` and reads the whole answer. */
export async function sendAsyncCall(
  upstream: string,
  call: Pick<AsyncRequestRecord, 'method' | 'path' | 'contentType' | 'body'>,
  limits: AsyncCallLimits,
  signal: AbortSignal,
): Promise<AsyncCallResult> {
  const deadline = AbortSignal.timeout(limits.timeoutMs);
  try {
    const response = await fetch(upstream.replace(/\/$/, '') + call.path, {
      method: call.method,
      headers: call.contentType ? { 'Content-Type': call.contentType } : {},
      body: call.body,
      redirect: 'manual',
      signal: AbortSignal.any([signal, deadline]),
    });
    const body = await readCapped(response.body, limits.maxResponseBytes);
    if (!body) return { kind: 'failed', reason: `the response is larger than the ${limits.maxResponseBytes} bytes a result may hold` };
    return { kind: 'answered', status: response.status, contentType: response.headers.get('content-type'), body };
  } catch (error) {
    if (deadline.aborted) return { kind: 'failed', reason: `the replica did not answer within ${limits.timeoutMs / 1000} s` };
    const code = (error as Error & { cause?: { code?: string } }).cause?.code ?? (error as NodeJS.ErrnoException).code;
    const reason = code === undefined ? undefined : CONNECTION_FAILURES[code];
    return reason ? { kind: 'unreachable', reason } : { kind: 'failed', reason: `the replica failed (${code ?? (error as Error).message})` };
  }
}
