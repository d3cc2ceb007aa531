import { appendFileSync, closeSync, mkdirSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Bus } from '../lib/bus.ts';

/** One line of a job's output as stored: stream, time (ms since the epoch), text. */
export interface JobLogLine {
  stream: 'stdout' | 'stderr' | 'system';
  time: number;
  text: string;
}

declare module '../lib/bus.ts' {
  interface BusEvents {
    /** Lines appended to a job's log, in order; `first` is the number of the first of them (0-based). */
    'job.log': { jobId: number; first: number; lines: JobLogLine[] };
  }
}

/** A job's log beyond this is cut, with one line that says so: a runaway job cannot fill the disk. */
export const MAX_LOG_BYTES = 64 * 1024 * 1024;

export interface JobLogs {
  append(jobId: number, lines: JobLogLine[]): void;
  /** Lines from number `from` on (0-based), as stored. */
  read(jobId: number, from?: number): JobLogLine[];
  /** The last `count` lines and how many there are in all, reading only the end of the file. */
  tail(jobId: number, count: number): { total: number; lines: JobLogLine[] };
  /**
   * Every line from `from` on, then each new one as it is appended, until `finished()` says the job is over
   * (checked whenever nothing new came for a moment) or `signal` aborts.
   */
  follow(jobId: number, options: { from?: number; finished: () => boolean; signal?: AbortSignal }): AsyncGenerator<JobLogLine>;
}

const FOLLOW_POLL_MS = 500;
const TAIL_CHUNK_BYTES = 256 * 1024;

function countNewlines(buffer: Buffer): number {
  let newlines = 0;
  for (let at = buffer.indexOf(0x0a); at !== -1; at = buffer.indexOf(0x0a, at + 1)) newlines++;
  return newlines;
}

const parseRows = (rows: string[]): JobLogLine[] =>
  rows.flatMap((row) => {
    try {
      return [JSON.parse(row) as JobLogLine];
    } catch {
      return [];
    }
  });

/**
 * Logs live as JSON lines in `<root>/<job id>.log`, written by the scheduler as the container prints, so they
 * outlive the container and an appliance restart. Line counts are kept in memory per job for numbering.
 */
export function createJobLogs(deps: { root: string; bus: Bus }): JobLogs {
  const { root, bus } = deps;
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const pathOf = (jobId: number) => join(root, `${jobId}.log`);
  const counts = new Map<number, { lines: number; bytes: number; cut: boolean }>();

  const read = (jobId: number, from = 0): JobLogLine[] => {
    let text: string;
    try {
      text = readFileSync(pathOf(jobId), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const rows = text.split('\n');
    rows.pop(); // the text ends with a newline; a torn last row (a crash mid-write) has none and is dropped
    return parseRows(rows.slice(from));
  };

  /** The file's last bytes, growing the window until it holds `count` whole rows or the whole file. */
  const tail = (jobId: number, count: number) => {
    const total = countOf(jobId).lines;
    if (total === 0 || count <= 0) return { total, lines: [] };
    const descriptor = openSync(pathOf(jobId), 'r');
    try {
      const size = statSync(pathOf(jobId)).size;
      for (let window = TAIL_CHUNK_BYTES; ; window *= 4) {
        const start = Math.max(0, size - window);
        const buffer = Buffer.alloc(size - start);
        readSync(descriptor, buffer, 0, buffer.length, start);
        const rows = buffer.toString('utf8').split('\n');
        rows.pop();
        if (start > 0) rows.shift(); // cut mid-row
        if (rows.length >= count || start === 0) return { total, lines: parseRows(rows.slice(-count)) };
      }
    } finally {
      closeSync(descriptor);
    }
  };

  const countOf = (jobId: number) => {
    let count = counts.get(jobId);
    if (!count) {
      let bytes = 0;
      try {
        bytes = statSync(pathOf(jobId)).size;
      } catch {
        // no log yet
      }
      count = { lines: bytes > 0 ? countNewlines(readFileSync(pathOf(jobId))) : 0, bytes, cut: bytes >= MAX_LOG_BYTES };
      counts.set(jobId, count);
    }
    return count;
  };

  return {
    append(jobId, lines) {
      const count = countOf(jobId);
      if (count.cut || lines.length === 0) return;
      let kept = lines;
      let text = kept.map((line) => `${JSON.stringify(line)}\n`).join('');
      if (count.bytes + Buffer.byteLength(text) > MAX_LOG_BYTES) {
        const notice: JobLogLine = { stream: 'system', time: lines.at(-1)!.time, text: `log cut at ${MAX_LOG_BYTES / 2 ** 20} MB` };
        kept = [notice];
        text = `${JSON.stringify(notice)}\n`;
        count.cut = true;
      }
      appendFileSync(pathOf(jobId), text, { mode: 0o600 });
      const first = count.lines;
      count.lines += kept.length;
      count.bytes += Buffer.byteLength(text);
      bus.publish('job.log', { jobId, first, lines: kept });
    },

    read,
    tail,

    async *follow(jobId, { from = 0, finished, signal }) {
      const pending: JobLogLine[] = [];
      let next = from;
      let wake: (() => void) | undefined;
      // Subscribing and reading happen in one synchronous step: no line can slip between them.
      const unsubscribe = bus.subscribe('job.log', (event) => {
        if (event.jobId !== jobId) return;
        const known = next - event.first;
        if (known < event.lines.length) {
          pending.push(...event.lines.slice(Math.max(0, known)));
          next = event.first + event.lines.length;
        }
        wake?.();
      });
      const stored = read(jobId, from);
      pending.push(...stored);
      next = from + stored.length;
      const stop = () => wake?.();
      signal?.addEventListener('abort', stop, { once: true });
      try {
        while (signal?.aborted !== true) {
          while (pending.length > 0) yield pending.shift()!;
          if (finished()) return;
          await new Promise<void>((resolve) => {
            wake = resolve;
            setTimeout(resolve, FOLLOW_POLL_MS).unref();
          });
          wake = undefined;
        }
      } finally {
        unsubscribe();
        signal?.removeEventListener('abort', stop);
      }
    },
  };
}
