/** The start of a body as it was, with its whole size. */
export interface CapturedBody {
  body: Buffer;
  /** Bytes the whole body had. */
  bytes: number;
  /** The body was longer than what was kept. */
  truncated: boolean;
}

/** Keeps the first `maxBytes` of a body that streams past it, chunk by chunk, without holding the stream up. */
export interface BodyCapture {
  /** A 'data' listener: it takes what still fits of each chunk and counts the rest. */
  readonly add: (chunk: Buffer) => void;
  result(): CapturedBody;
}

export function captureBody(maxBytes: number): BodyCapture {
  const chunks: Buffer[] = [];
  let kept = 0;
  let bytes = 0;
  return {
    add(chunk) {
      bytes += chunk.length;
      if (kept >= maxBytes) return;
      // A copy: the stream may hand out views of memory it reuses, and what is kept outlives the chunk.
      const part = Buffer.from(kept + chunk.length <= maxBytes ? chunk : chunk.subarray(0, maxBytes - kept));
      chunks.push(part);
      kept += part.length;
    },
    result: () => ({ body: Buffer.concat(chunks, kept), bytes, truncated: bytes > kept }),
  };
}

/** Both bodies of one sampled call through the proxy, and the type of the response's. */
export interface CallCapture {
  request: BodyCapture;
  response: BodyCapture;
  /** Set once the replica's response headers arrived. */
  responseContentType: string | null;
}

export const captureCall = (maxBytes: number): CallCapture => ({ request: captureBody(maxBytes), response: captureBody(maxBytes), responseContentType: null });
