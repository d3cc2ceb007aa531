import { and, desc, eq, inArray, lt, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/connection.ts';
import { jobEvents, jobs } from '../db/schema/scheduler.ts';

export type JobRecord = typeof jobs.$inferSelect;
export type NewJobRecord = typeof jobs.$inferInsert;
export type JobEventRecord = typeof jobEvents.$inferSelect;
export type JobState = JobRecord['state'];
export type JobChanges = Partial<Omit<JobRecord, 'id' | 'projectId' | 'userId' | 'submittedAt' | 'state'>>;

export function insertJob(db: Db, job: NewJobRecord): JobRecord {
  return db.insert(jobs).values(job).returning().get();
}

export function findJob(db: Db, id: number): JobRecord | undefined {
  return db.select().from(jobs).where(eq(jobs.id, id)).get();
}

/** Moves a job only if it is still in `from`: two writers never both win the same transition. */
export function moveJob(db: Db, id: number, from: JobState, to: JobState, changes: JobChanges): JobRecord | undefined {
  return db
    .update(jobs)
    .set({ ...changes, state: to })
    .where(and(eq(jobs.id, id), eq(jobs.state, from)))
    .returning()
    .get();
}

export function updateJob(db: Db, id: number, changes: JobChanges): JobRecord | undefined {
  return db.update(jobs).set(changes).where(eq(jobs.id, id)).returning().get();
}

export function insertJobEvent(db: Db, event: typeof jobEvents.$inferInsert): void {
  db.insert(jobEvents).values(event).run();
}

export function listJobEvents(db: Db, jobId: number): JobEventRecord[] {
  return db.select().from(jobEvents).where(eq(jobEvents.jobId, jobId)).orderBy(jobEvents.id).all();
}

export function listJobsInStates(db: Db, states: JobState[]): JobRecord[] {
  return db.select().from(jobs).where(inArray(jobs.state, states)).orderBy(jobs.id).all();
}

/** The replica jobs of a deployment in `states`, oldest first. */
export function listDeploymentJobs(db: Db, deploymentId: number, states: JobState[]): JobRecord[] {
  return db
    .select()
    .from(jobs)
    .where(and(eq(jobs.deploymentId, deploymentId), inArray(jobs.state, states)))
    .orderBy(jobs.id)
    .all();
}

export interface JobListFilter {
  /** Only these projects; undefined for all. */
  projectIds?: number[];
  userId?: number;
  states?: JobState[];
  /** Jobs with an id below this one (the next page, newest first). */
  before?: number;
  limit: number;
}

export function listJobs(db: Db, filter: JobListFilter): JobRecord[] {
  const conditions: SQL[] = [];
  if (filter.projectIds) conditions.push(filter.projectIds.length > 0 ? inArray(jobs.projectId, filter.projectIds) : sql`0`);
  if (filter.userId !== undefined) conditions.push(eq(jobs.userId, filter.userId));
  if (filter.states && filter.states.length > 0) conditions.push(inArray(jobs.state, filter.states));
  if (filter.before !== undefined) conditions.push(lt(jobs.id, filter.before));
  return db
    .select()
    .from(jobs)
    .where(and(...conditions))
    .orderBy(desc(jobs.id))
    .limit(filter.limit)
    .all();
}
