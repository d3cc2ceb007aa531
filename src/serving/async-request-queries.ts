import { and, asc, eq, inArray, lt, lte, sql } from 'drizzle-orm';
import type { Db } from '../db/connection.ts';
import { asyncRequests } from '../db/schema/serving.ts';

export type AsyncRequestRecord = typeof asyncRequests.$inferSelect;
export type NewAsyncRequestRecord = typeof asyncRequests.$inferInsert;
type AsyncRequestState = AsyncRequestRecord['state'];
export type AsyncRequestOutcome = Pick<AsyncRequestRecord, 'responseStatus' | 'responseContentType' | 'responseBody' | 'error'> & { state: 'succeeded' | 'failed' };

const FINISHED: AsyncRequestState[] = ['succeeded', 'failed'];

export function insertAsyncRequest(db: Db, request: NewAsyncRequestRecord): AsyncRequestRecord {
  return db.insert(asyncRequests).values(request).returning().get();
}

export function findAsyncRequest(db: Db, id: string): AsyncRequestRecord | undefined {
  return db.select().from(asyncRequests).where(eq(asyncRequests.id, id)).get();
}

/** The deployments with a call due by `now`. */
export function deploymentsWithDueRequests(db: Db, now: number): string[] {
  return db
    .selectDistinct({ deployment: asyncRequests.deployment })
    .from(asyncRequests)
    .where(and(eq(asyncRequests.state, 'queued'), lte(asyncRequests.notBefore, now)))
    .all()
    .map(({ deployment }) => deployment);
}

/** Marks up to `limit` of a deployment's due calls running, oldest first, and returns them. */
export function claimDueRequests(db: Db, deployment: string, now: number, limit: number): AsyncRequestRecord[] {
  return db.transaction(() => {
    const due = db
      .select({ id: asyncRequests.id })
      .from(asyncRequests)
      .where(and(eq(asyncRequests.state, 'queued'), eq(asyncRequests.deployment, deployment), lte(asyncRequests.notBefore, now)))
      .orderBy(asc(sql`rowid`))
      .limit(limit)
      .all();
    if (due.length === 0) return [];
    const claimed = db
      .update(asyncRequests)
      .set({ state: 'running', startedAt: now, attempts: sql`${asyncRequests.attempts} + 1` })
      .where(inArray(asyncRequests.id, due.map(({ id }) => id)))
      .returning()
      .all();
    const position = new Map(due.map(({ id }, index) => [id, index]));
    return claimed.sort((a, b) => position.get(a.id)! - position.get(b.id)!);
  });
}

export function finishAsyncRequest(db: Db, id: string, outcome: AsyncRequestOutcome, now: number): void {
  db.update(asyncRequests)
    .set({ ...outcome, finishedAt: now })
    .where(and(eq(asyncRequests.id, id), eq(asyncRequests.state, 'running')))
    .run();
}

/** Puts a running call back in the queue, to be sent again from `notBefore`. */
export function requeueAsyncRequest(db: Db, id: string, notBefore: number, error: string | null): void {
  db.update(asyncRequests)
    .set({ state: 'queued', notBefore, error, startedAt: null })
    .where(and(eq(asyncRequests.id, id), eq(asyncRequests.state, 'running')))
    .run();
}

/** After a restart, the calls that were in flight are sent again; returns how many. */
export function requeueAllRunning(db: Db, now: number): number {
  return db.update(asyncRequests).set({ state: 'queued', notBefore: now, startedAt: null }).where(eq(asyncRequests.state, 'running')).run().changes;
}

/** Deletes a call unless it is running; returns whether it did. */
export function deleteIdleAsyncRequest(db: Db, id: string): boolean {
  return db.delete(asyncRequests).where(and(eq(asyncRequests.id, id), sql`${asyncRequests.state} <> 'running'`)).run().changes > 0;
}

/** Deletes the results that finished before `before`; returns how many. */
export function deleteFinishedBefore(db: Db, before: number): number {
  return db
    .delete(asyncRequests)
    .where(and(inArray(asyncRequests.state, FINISHED), lt(asyncRequests.finishedAt, before)))
    .run().changes;
}
