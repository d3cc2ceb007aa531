import { and, eq, gte, inArray, isNull, lt, or, type SQL, type SQLWrapper } from 'drizzle-orm';
import type { Db } from '../db/connection.ts';
import { jobEvents, jobs } from '../db/schema/scheduler.ts';

/** One attempt's hold on its GPUs: from the job's move to running until its move away (null while it still runs). */
export interface HeldPeriod {
  start: number;
  end: number | null;
}

/** What accounting needs of a job: whose it is, what it asked for, where it was last placed, and when it ran. */
export interface JobAllocation {
  id: number;
  userId: number;
  projectId: number;
  gpus: number;
  gpuMemory: number | null;
  /** The units of its latest placement; empty while a requeued job waits to be placed again. */
  gpuUuids: string[];
  periods: HeldPeriod[];
}

const allocationColumns = {
  id: jobs.id,
  userId: jobs.userId,
  projectId: jobs.projectId,
  gpus: jobs.gpus,
  gpuMemory: jobs.gpuMemory,
  gpuUuids: jobs.gpuUuids,
};

/** The periods of each job, from its events in order: `-> running` opens one, `running ->` closes it. */
function periodsOf(db: Db, jobIds: SQLWrapper): Map<number, HeldPeriod[]> {
  const events = db
    .select({ jobId: jobEvents.jobId, at: jobEvents.at, fromState: jobEvents.fromState, toState: jobEvents.toState })
    .from(jobEvents)
    .where(and(inArray(jobEvents.jobId, jobIds), or(eq(jobEvents.toState, 'running'), eq(jobEvents.fromState, 'running'))))
    .orderBy(jobEvents.jobId, jobEvents.id)
    .all();
  const periods = new Map<number, HeldPeriod[]>();
  for (const event of events) {
    const held = periods.get(event.jobId) ?? [];
    periods.set(event.jobId, held);
    if (event.toState === 'running') held.push({ start: event.at, end: null });
    else if (held.at(-1)?.end === null) held.at(-1)!.end = event.at;
  }
  return periods;
}

function withPeriods(db: Db, where: SQL | undefined): JobAllocation[] {
  const rows = db.select(allocationColumns).from(jobs).where(where).orderBy(jobs.id).all();
  if (rows.length === 0) return [];
  const periods = periodsOf(db, db.select({ id: jobs.id }).from(jobs).where(where));
  return rows.map((row) => ({ ...row, periods: periods.get(row.id) ?? [] }));
}

/** Jobs that may have held GPUs in [start, end): submitted before its end and not finished before its start. */
export function listJobAllocations(db: Db, window: { start: number; end: number }): JobAllocation[] {
  return withPeriods(db, and(lt(jobs.submittedAt, window.end), or(isNull(jobs.finishedAt), gte(jobs.finishedAt, window.start))));
}

export function findJobAllocations(db: Db, ids: number[]): JobAllocation[] {
  return ids.length === 0 ? [] : withPeriods(db, inArray(jobs.id, ids));
}
