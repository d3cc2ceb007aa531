import { describe, expect, it } from 'vitest';
import { MAX_LINE_BYTES, readLogLines } from '../../src/runtime/log-lines.ts';

const T1 = '2026-01-02T03:04:05.123456789Z';
const T2 = '2026-01-02T03:04:06.000000001Z';

/** One frame of Docker's multiplexed stream: [stream, 0, 0, 0, size BE] + payload. */
function frame(stream: 1 | 2 | 3, payload: string | Buffer): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

/** The bytes cut into chunks of `size` (1 cuts every header and every character). */
async function* chunked(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let offset = 0; offset < bytes.length; offset += size) yield bytes.subarray(offset, offset + size);
}

async function lines(bytes: Buffer, chunkSize = bytes.length || 1) {
  const out = [];
  for await (const line of readLogLines(chunked(bytes, chunkSize))) out.push({ stream: line.stream, text: line.text, time: line.time.toISOString() });
  return out;
}

describe('readLogLines', () => {
  const stream = Buffer.concat([
    frame(1, `${T1} hello\n`),
    frame(2, `${T1} warning: ünïcödé ✓\n`),
    frame(1, `${T2} second\r\n`),
    frame(3, `${T2} engine error\n`),
  ]);
  const expected = [
    { stream: 'stdout', text: 'hello', time: '2026-01-02T03:04:05.123Z' },
    { stream: 'stderr', text: 'warning: ünïcödé ✓', time: '2026-01-02T03:04:05.123Z' },
    { stream: 'stdout', text: 'second', time: '2026-01-02T03:04:06.000Z' },
    { stream: 'stderr', text: 'engine error', time: '2026-01-02T03:04:06.000Z' },
  ];

  for (const size of [stream.length, 1, 3, 7, 8, 9, 13]) {
    it(`separates stdout and stderr and keeps each line's time, in chunks of ${size} bytes`, async () => {
      expect(await lines(stream, size)).toEqual(expected);
    });
  }

  it('joins the 16 KB pieces of a long line (each with its own timestamp) into one line with the first time', async () => {
    const long = 'x'.repeat(40_000);
    const pieces = Buffer.concat([
      frame(1, `${T1} ${long.slice(0, 16_384)}`),
      frame(2, `${T1} interleaved\n`),
      frame(1, `${T2} ${long.slice(16_384, 32_768)}`),
      frame(1, `${T2} ${long.slice(32_768)}\n`),
    ]);
    const out = await lines(pieces, 1000);
    expect(out.map((line) => [line.stream, line.text.length])).toEqual([['stderr', 11], ['stdout', 40_000]]);
    expect(out[1]!.text).toBe(long);
    expect(out[1]!.time).toBe('2026-01-02T03:04:05.123Z');
  });

  it('splits a frame holding several lines, keeps empty lines, and emits a last line without a newline', async () => {
    const out = await lines(Buffer.concat([frame(1, `${T1} a\n\nb\n`), frame(1, `${T2} done`)]), 5);
    expect(out.map((line) => line.text)).toEqual(['a', '', 'b', 'done']);
  });

  it('cuts a line that never ends at 1 MiB', async () => {
    const piece = 'y'.repeat(16 * 1024);
    const frames = Array.from({ length: 70 }, () => frame(1, `${T1} ${piece}`));
    const out = await lines(Buffer.concat(frames), 64 * 1024);
    expect(out.map((line) => line.text.length)).toEqual([MAX_LINE_BYTES, 70 * piece.length - MAX_LINE_BYTES]);
  });

  it('drops a truncated last frame (a dropped connection) and reads nothing from nothing', async () => {
    const truncated = Buffer.concat([frame(1, `${T1} whole\n`), frame(1, `${T1} cut off\n`).subarray(0, 20)]);
    expect((await lines(truncated, 4)).map((line) => line.text)).toEqual(['whole']);
    expect(await lines(Buffer.alloc(0))).toEqual([]);
  });

  it('keeps a line whose frame has no timestamp', async () => {
    const out = await lines(frame(1, 'plain\n'));
    expect(out.map((line) => line.text)).toEqual(['plain']);
  });
});
