import type Dockerode from 'dockerode';

/** An answer of the engine read as it arrives; iterating it throws if the connection drops before the end. */
export type EngineStream = AsyncIterable<Buffer> & { destroy(): void };

export interface EngineRequest {
  path: string;
  method: 'GET' | 'POST';
  query: Record<string, unknown>;
  statusCodes: Record<number, true | string>;
}

/**
 * Sends a request whose answer may take hours (a followed log, a wait). The deadline covers only the engine's
 * first answer (its headers); `signal` ends the request at any time. dockerode's own buffered requests never
 * settle when the connection drops after the headers (an engine restarting during a wait), so long answers are
 * read through this instead.
 */
export async function openEngineStream(docker: Dockerode, request: EngineRequest, timeoutMs: number, signal?: AbortSignal): Promise<EngineStream> {
  const connecting = new AbortController();
  const timer = setTimeout(() => connecting.abort(new DOMException('no answer', 'TimeoutError')), timeoutMs);
  const abortSignal = signal ? AbortSignal.any([connecting.signal, signal]) : connecting.signal;
  try {
    return await new Promise<EngineStream>((resolve, reject) => {
      docker.modem.dial(
        { path: request.path, method: request.method, options: request.query, isStream: true, abortSignal, statusCodes: request.statusCodes },
        (error, stream) => (error ? reject(error) : resolve(stream as EngineStream)),
      );
    });
  } finally {
    clearTimeout(timer);
  }
}

/** The whole answer as text. */
export async function readAll(stream: EngineStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}
