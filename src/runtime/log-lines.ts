/** One line a container wrote, with the time Docker received it. */
export interface LogLine {
  stream: 'stdout' | 'stderr';
  text: string;
  time: Date;
}

/** A line with Docker's own timestamp (RFC 3339, nanoseconds, fixed width: it sorts as text). */
export interface StampedLogLine extends LogLine {
  stamp: string;
}

/** A line longer than this (no newline in 1 MiB) is cut, so a runaway writer cannot exhaust memory. */
export const MAX_LINE_BYTES = 1024 * 1024;

const HEADER_BYTES = 8;
const NEWLINE = 0x0a;
const SPACE = 0x20;
// "2006-01-02T15:04:05.999999999Z " is at most 36 bytes with a zone offset.
const TIMESTAMP_SCAN_BYTES = 40;

interface Frame {
  stream: LogLine['stream'];
  payload: Buffer;
}

/**
 * Frames of Docker's multiplexed log stream (no TTY): a header [stream, 0, 0, 0, size as uint32 BE], then `size`
 * bytes. Chunks may split a header or a payload anywhere; a truncated last frame (a dropped connection) is dropped.
 */
async function* readFrames(chunks: AsyncIterable<Buffer>): AsyncGenerator<Frame> {
  let pending: Buffer = Buffer.alloc(0);
  for await (const chunk of chunks) {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let offset = 0;
    while (pending.length - offset >= HEADER_BYTES) {
      const size = pending.readUInt32BE(offset + 4);
      const end = offset + HEADER_BYTES + size;
      if (end > pending.length) break;
      // 1 is stdout; 2 is stderr and 3 the engine's own errors, shown with stderr.
      const stream = pending[offset] === 1 || pending[offset] === 0 ? 'stdout' : 'stderr';
      yield { stream, payload: pending.subarray(offset + HEADER_BYTES, end) };
      offset = end;
    }
    pending = pending.subarray(offset);
  }
}

/** With `timestamps: true` every message (a line, or each 16 KB piece of a longer one) starts with its RFC 3339 time. */
function splitTimestamp(payload: Buffer): { stamp: string | undefined; body: Buffer } {
  const space = payload.subarray(0, TIMESTAMP_SCAN_BYTES).indexOf(SPACE);
  if (space > 0) {
    const stamp = payload.subarray(0, space).toString('latin1');
    if (!Number.isNaN(Date.parse(stamp))) return { stamp, body: payload.subarray(space + 1) };
  }
  return { stamp: undefined, body: payload };
}

interface PartialLine {
  parts: Buffer[];
  bytes: number;
  stamp: string;
}

function toLine(stream: LogLine['stream'], partial: PartialLine): StampedLogLine {
  const text = Buffer.concat(partial.parts, partial.bytes).toString('utf8');
  return { stream, text: text.endsWith('\r') ? text.slice(0, -1) : text, time: new Date(Date.parse(partial.stamp)), stamp: partial.stamp };
}

/**
 * Docker's multiplexed log stream as whole lines, stdout and stderr kept apart. A line keeps the time of its first
 * piece; a line split across frames or chunks (or cut in the middle of a UTF-8 character) comes out whole.
 */
export async function* readLogLines(chunks: AsyncIterable<Buffer>): AsyncGenerator<StampedLogLine> {
  const partials: Record<LogLine['stream'], PartialLine | undefined> = { stdout: undefined, stderr: undefined };
  for await (const { stream, payload } of readFrames(chunks)) {
    const { stamp, body } = splitTimestamp(payload);
    let start = 0;
    while (start < body.length) {
      const newline = body.indexOf(NEWLINE, start);
      const piece = body.subarray(start, newline === -1 ? body.length : newline);
      const partial = (partials[stream] ??= { parts: [], bytes: 0, stamp: stamp ?? new Date().toISOString() });
      partial.parts.push(piece);
      partial.bytes += piece.length;
      if (newline !== -1 || partial.bytes >= MAX_LINE_BYTES) {
        yield toLine(stream, partial);
        partials[stream] = undefined;
      }
      start = newline === -1 ? body.length : newline + 1;
    }
  }
  // Output that ended without a newline (`printf done`) is still a line.
  for (const stream of ['stdout', 'stderr'] as const) {
    const partial = partials[stream];
    if (partial) yield toLine(stream, partial);
  }
}
