import type { Pool } from './gpu-pool.ts';
import type { PlacementPolicy, QueuedJob } from './placement-types.ts';
import { comesBefore } from './sort-keys.ts';

/** A user's waiting jobs of one priority, oldest first, and how far the decision has got through them. */
interface UserLine {
  user: string;
  jobs: QueuedJob[];
  next: number;
}

/** Highest priority first, then oldest; the sort is stable, so the caller's order breaks the remaining ties. */
const byPriorityThenAge = (queue: readonly QueuedJob[]) =>
  [...queue].sort((a, b) => b.priority - a.priority || a.submittedAt - b.submittedAt);

/**
 * The user whose turn it is: the one holding the smallest GPU share right now (counting jobs this decision has
 * already started), then the one with the fewest recent GPU-seconds, then the one whose next job is oldest.
 */
function nextLine(lines: readonly UserLine[], pool: Pool, recentGpuSeconds: ReadonlyMap<string, number> | undefined): UserLine | undefined {
  let best: UserLine | undefined;
  let bestKey: number[] = [];
  for (const line of lines) {
    const job = line.jobs[line.next];
    if (!job) continue;
    const key = [pool.userShare.get(line.user) ?? 0, recentGpuSeconds?.get(line.user) ?? 0, job.submittedAt];
    if (!best || comesBefore(key, bestKey)) {
      best = line;
      bestKey = key;
    }
  }
  return best;
}

function* fairShare(jobs: readonly QueuedJob[], pool: Pool, recentGpuSeconds: ReadonlyMap<string, number> | undefined): Generator<QueuedJob> {
  const lines = new Map<string, UserLine>();
  for (const job of jobs) {
    const line = lines.get(job.user) ?? { user: job.user, jobs: [], next: 0 };
    line.jobs.push(job);
    lines.set(job.user, line);
  }
  const all = [...lines.values()];
  for (let line = nextLine(all, pool, recentGpuSeconds); line; line = nextLine(all, pool, recentGpuSeconds)) {
    yield line.jobs[line.next++]!;
  }
}

/**
 * The order in which the decision considers waiting jobs: by priority, highest first; within a priority, jobs that
 * have waited `maxOvertakeMs` or more, oldest first; then the rest by fair share between users, each user's
 * oldest first. Fair share is read afresh before every job, so a user given a GPU goes behind the others.
 */
export function* orderQueue(
  queue: readonly QueuedJob[],
  pool: Pool,
  recentGpuSeconds: ReadonlyMap<string, number> | undefined,
  policy: PlacementPolicy,
): Generator<QueuedJob> {
  const sorted = byPriorityThenAge(queue);
  for (let start = 0; start < sorted.length; ) {
    const priority = sorted[start]!.priority;
    let end = start;
    while (end < sorted.length && sorted[end]!.priority === priority) end++;
    const level = sorted.slice(start, end);
    const overdue = (job: QueuedJob) => pool.now - job.submittedAt >= policy.maxOvertakeMs;
    yield* level.filter(overdue);
    yield* fairShare(level.filter((job) => !overdue(job)), pool, recentGpuSeconds);
    start = end;
  }
}
