import type Dockerode from 'dockerode';
import { openEngineStream, type EngineRequest } from './engine-stream.ts';
import { readLogLines, type LogLine, type StampedLogLine } from './log-lines.ts';
import { unavailableError } from './runtime-errors.ts';

export interface LogOptions {
  /** Keep reading until the container stops (or the consumer stops iterating, or `signal` aborts). */
  follow?: boolean;
  since?: Date;
  /** Only the last N lines. */
  tail?: number;
  signal?: AbortSignal;
}

interface LogSource {
  docker: Dockerode;
  /** Where the engine is, for error messages. */
  engine: string;
  /** The deadline for the engine's first answer. */
  timeoutMs: number;
}

function logRequest(id: string, options: LogOptions): EngineRequest {
  const query = {
    stdout: true,
    stderr: true,
    timestamps: true,
    follow: options.follow === true,
    tail: options.tail === undefined ? 'all' : String(options.tail),
    ...(options.since ? { since: (options.since.getTime() / 1000).toFixed(3) } : {}),
  };
  // dockerode would buffer a log that is not followed in memory; the engine's answer is a stream either way.
  return { path: `/containers/${id}/logs?`, method: 'GET', query, statusCodes: { 200: true, 404: 'no such container', 500: 'server error' } };
}

async function* readStream(source: LogSource, id: string, options: LogOptions): AsyncGenerator<StampedLogLine> {
  try {
    const stream = await openEngineStream(source.docker, logRequest(id, options), source.timeoutMs, options.signal);
    try {
      yield* readLogLines(stream);
    } finally {
      stream.destroy();
    }
  } catch (error) {
    if (options.signal?.aborted) return;
    throw unavailableError(error, `the logs of ${id}`, source.engine, source.timeoutMs) ?? error;
  }
}

const withoutStamp = ({ stream, text, time }: StampedLogLine): LogLine => ({ stream, text, time });

/**
 * The container's log as lines. A followed log ends when the container stops; Docker 20.10 then drops a last line
 * that has no newline (`printf done`), so the end is read once more, unfollowed, from the last line seen.
 */
export async function* readContainerLogs(source: LogSource, id: string, options: LogOptions): AsyncGenerator<LogLine> {
  let lastStamp: string | undefined;
  for await (const line of readStream(source, id, options)) {
    lastStamp = line.stamp;
    yield withoutStamp(line);
  }
  if (!options.follow || options.signal?.aborted) return;
  const rest = lastStamp ? { since: new Date(Date.parse(lastStamp)), tail: undefined } : {};
  for await (const line of readStream(source, id, { ...options, ...rest, follow: false })) {
    if (lastStamp === undefined || line.stamp > lastStamp) yield withoutStamp(line);
  }
}
