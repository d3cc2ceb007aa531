import { setTimeout as sleep } from 'node:timers/promises';
import type { JobLogLine } from '../scheduler/job-logs.ts';
import type { JobState } from '../scheduler/jobs.ts';
import { CliError, EXIT } from './cli-error.ts';
import { UnreachableError, type StreamingClient } from './api-stream.ts';
import { readEvents } from './event-stream.ts';

/** What the log stream's last event says about the job. */
export interface JobEnd {
  state: JobState;
  exitCode: number | null;
  reason: string;
}

/** Waits between tries to get a dropped stream back (an appliance restart, say): about five minutes in all. */
const RECONNECT_DELAYS_MS = [500, 1000, 2000, ...Array<number>(60).fill(5000)];

export function printLine(line: JobLogLine): void {
  if (line.stream === 'stdout') process.stdout.write(`${line.text}\n`);
  else process.stderr.write(line.stream === 'system' ? `[trainyard] ${line.text}\n` : `${line.text}\n`);
}

/** The job's exit code as the CLI's own: 130 when it was cancelled, 1 when it failed without one. */
export function exitCodeOf(end: JobEnd): number {
  if (end.state === 'succeeded') return EXIT.ok;
  if (end.state === 'cancelled') return 130;
  return end.exitCode || EXIT.failed;
}

/**
 * Prints a job's log as it is written (its stdout on stdout, everything else on stderr) until the job ends, and
 * answers how it ended; undefined when the person pressed Ctrl-C, which stops following and leaves the job be.
 * A stream that drops is followed again from the last line printed. `onFollowing` is called once Ctrl-C is caught.
 */
export async function followJob(client: StreamingClient, id: number, onFollowing: () => void = () => {}): Promise<JobEnd | undefined> {
  const interrupted = new AbortController();
  const interrupt = () => interrupted.abort();
  process.once('SIGINT', interrupt);
  // Only now may the person be told that Ctrl-C stops following.
  onFollowing();
  let lastLine: string | undefined;
  let retries = 0;
  try {
    for (;;) {
      try {
        const response = await client.open(`/api/v1/jobs/${id}/logs?follow=1`, {
          headers: { Accept: 'text/event-stream', ...(lastLine !== undefined && { 'Last-Event-ID': lastLine }) },
          signal: interrupted.signal,
        });
        for await (const event of readEvents(response.body!)) {
          retries = 0;
          if (event.event === 'end') return JSON.parse(event.data) as JobEnd;
          if (event.id !== undefined) lastLine = event.id;
          printLine(JSON.parse(event.data) as JobLogLine);
        }
      } catch (error) {
        if (interrupted.signal.aborted) return undefined;
        // An answer that says no (the job is gone, the token revoked) will say no again.
        if (error instanceof CliError && !(error instanceof UnreachableError)) throw error;
      }
      const delay = RECONNECT_DELAYS_MS[retries++];
      if (delay === undefined) throw new CliError(`lost the connection to ${client.url}: follow again with \`yard logs -f ${id}\``);
      if (retries === 1) process.stderr.write(`yard: the log stream of job ${id} dropped; following again...\n`);
      await sleep(delay, undefined, { signal: interrupted.signal }).catch(() => {});
      if (interrupted.signal.aborted) return undefined;
    }
  } finally {
    process.off('SIGINT', interrupt);
  }
}
