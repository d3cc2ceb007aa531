import type { JobChanges, JobRecord, JobState } from './job-queries.ts';
import { formatNumber } from './quantities.ts';

/** Why the scheduler stopped a container, when it did. */
export type StopIntent = { kind: 'cancel' } | { kind: 'timeout' } | { kind: 'preempt'; forJobId: number | string };

/** How a container ended, as Docker reports it; `vanished`: it was removed before its exit could be read. */
export type ContainerEnd = { exitCode: number; oomKilled: boolean; startedAt: number; finishedAt: number } | { vanished: string };

export interface Outcome {
  to: JobState;
  reason: string;
  changes: JobChanges;
}

const MAX_BACKOFF_MS = 10 * 60_000;

/** 10 s, 20 s, 40 s ... (for a base of 10 s) after the first, second, third failed attempt; at most 10 minutes. */
export const retryDelay = (attempt: number, baseMs: number) => Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.max(0, attempt - 1));

/** "1.5 s", "20 min", "2 h". */
const formatSpan = (ms: number) =>
  ms < 60_000 ? `${formatNumber(ms / 1000)} s` : ms < 3_600_000 ? `${formatNumber(ms / 60_000)} min` : `${formatNumber(ms / 3_600_000)} h`;

function describeExit(end: { exitCode: number; oomKilled: boolean }): string {
  return `exit code ${end.exitCode}${end.oomKilled ? ' (out of memory: the container went past its memory limit)' : ''}`;
}

/**
 * What becomes of a running job whose container ended: finished (succeeded, failed, cancelled, timed out, lost),
 * or back in the queue (a retry after its back-off, or a preemption). `gpuSeconds` is this run's allocated time.
 */
export function outcomeOf(job: JobRecord, end: ContainerEnd, context: { intent?: StopIntent; gpuSeconds: number; now: number; retryBaseMs: number }): Outcome {
  const { intent, now } = context;
  if ('vanished' in end) {
    return { to: 'lost', reason: end.vanished, changes: { finishedAt: now, gpuSeconds: job.gpuSeconds + context.gpuSeconds } };
  }
  const recorded = { exitCode: end.exitCode, gpuSeconds: job.gpuSeconds + context.gpuSeconds };
  const finished = (to: JobState, reason: string): Outcome => ({ to, reason, changes: { ...recorded, finishedAt: now } });
  const requeued = (reason: string, notBefore: number | null): Outcome => ({
    to: 'queued',
    reason,
    changes: { ...recorded, notBefore, containerId: null, gpuUuids: [], startedAt: null },
  });

  if (job.cancelRequestedAt !== null || intent?.kind === 'cancel') return finished('cancelled', `cancelled; the container stopped with ${describeExit(end)}`);
  const ranOutOfTime = job.timeLimitMs !== null && end.exitCode !== 0 && end.finishedAt - end.startedAt >= job.timeLimitMs;
  if (intent?.kind === 'timeout' || (intent === undefined && ranOutOfTime)) {
    return finished('timed_out', `stopped at its time limit of ${formatSpan(job.timeLimitMs ?? 0)}`);
  }
  // A job that finished its work within the preemption's grace period is done, not requeued.
  if (intent?.kind === 'preempt' && end.exitCode !== 0) return requeued(`preempted by job ${intent.forJobId}`, null);
  if (end.exitCode === 0) return finished('succeeded', 'exit code 0');
  if (job.attempts <= job.maxRetries) {
    const delay = retryDelay(job.attempts, context.retryBaseMs);
    return requeued(`${describeExit(end)}; retry ${job.attempts} of ${job.maxRetries} in ${formatSpan(delay)}`, now + delay);
  }
  return finished('failed', describeExit(end));
}
