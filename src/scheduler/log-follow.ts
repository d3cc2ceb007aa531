import { setTimeout as sleep } from 'node:timers/promises';
import { HttpError } from '../lib/errors.ts';
import type { Log } from '../lib/log.ts';
import type { ContainerRuntime } from '../runtime/container-runtime.ts';
import { RuntimeUnavailable } from '../runtime/runtime-errors.ts';
import type { JobLogLine, JobLogs } from './job-logs.ts';

/** Lines are written in batches: a chatty job costs one file append per batch, and still shows up live. */
const FLUSH_MS = 50;
const FLUSH_LINES = 500;
const RESUME_DELAY_MS = 2_000;

/** The last container output a job's log holds: where following resumes after a restart. */
export interface LogPosition {
  time: number;
  /** The lines stored at exactly `time` (`stream` and text), which a resumed follow sends again. */
  lines: string[];
}

const keyOf = (line: Pick<JobLogLine, 'stream' | 'text'>) => `${line.stream}\n${line.text}`;

/** Where a job's stored log ends, ignoring the appliance's own (system) lines, which carry its clock, not Docker's. */
export function storedPosition(lines: readonly JobLogLine[]): LogPosition | undefined {
  let position: LogPosition | undefined;
  for (const line of lines) {
    if (line.stream === 'system') continue;
    if (!position || line.time > position.time) position = { time: line.time, lines: [keyOf(line)] };
    else if (line.time === position.time) position.lines.push(keyOf(line));
  }
  return position;
}

export interface LogFollowDeps {
  runtime: ContainerRuntime;
  jobLogs: JobLogs;
  log: Log;
}

/**
 * Copies a container's output into the job's log until the container stops or `signal` aborts. Docker's `since`
 * has millisecond steps, so a resumed follow sends the lines of the last stored millisecond again: those are
 * skipped, once each. A dropped engine connection resumes the same way once the engine answers again.
 */
export async function followLogs(deps: LogFollowDeps, jobId: number, containerId: string, signal: AbortSignal, from?: LogPosition): Promise<void> {
  const { runtime, jobLogs, log } = deps;
  let position = from;
  let batch: JobLogLine[] = [];
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (batch.length === 0) return;
    const lines = batch;
    batch = [];
    try {
      jobLogs.append(jobId, lines);
    } catch (error) {
      log.error({ err: error, jobId }, 'could not write the job log');
    }
  };

  try {
    for (;;) {
      const resumeAt = position?.time ?? -Infinity;
      const repeated = [...(position?.lines ?? [])];
      try {
        const since = position ? new Date(position.time) : undefined;
        for await (const line of runtime.logs(containerId, { follow: true, signal, ...(since && { since }) })) {
          const stored: JobLogLine = { stream: line.stream, time: line.time.getTime(), text: line.text };
          const key = keyOf(stored);
          if (stored.time <= resumeAt && repeated.includes(key)) {
            repeated.splice(repeated.indexOf(key), 1);
            continue;
          }
          if (!position || stored.time > position.time) position = { time: stored.time, lines: [key] };
          else if (stored.time === position.time) position.lines.push(key);
          batch.push(stored);
          if (batch.length >= FLUSH_LINES) flush();
          else timer ??= setTimeout(flush, FLUSH_MS);
        }
        return;
      } catch (error) {
        if (signal.aborted || (error instanceof HttpError && error.status === 404)) return;
        if (!(error instanceof RuntimeUnavailable)) throw error;
        flush();
        log.warn({ jobId, reason: error.message }, 'lost the job log stream; resuming when the engine answers');
        await sleep(RESUME_DELAY_MS, undefined, { signal }).catch(() => undefined);
        if (signal.aborted) return;
      }
    }
  } finally {
    flush();
  }
}
