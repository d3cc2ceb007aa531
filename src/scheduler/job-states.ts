import type { JobState } from './job-queries.ts';

export type { JobState };

export const FINISHED_STATES: ReadonlySet<JobState> = new Set(['succeeded', 'failed', 'cancelled', 'timed_out', 'lost']);

/**
 * The state machine. `running -> queued` is a preemption or a retry; `starting -> queued` a start that Docker
 * refused for a passing reason (the engine went away); a job never leaves a finished state.
 */
const NEXT: Record<JobState, readonly JobState[]> = {
  queued: ['starting', 'cancelled', 'failed'],
  starting: ['running', 'queued', 'failed', 'cancelled', 'lost'],
  running: ['succeeded', 'failed', 'cancelled', 'timed_out', 'lost', 'queued'],
  succeeded: [],
  failed: [],
  cancelled: [],
  timed_out: [],
  lost: [],
};

export function canMove(from: JobState, to: JobState): boolean {
  return NEXT[from].includes(to);
}

export const isFinished = (state: JobState) => FINISHED_STATES.has(state);
