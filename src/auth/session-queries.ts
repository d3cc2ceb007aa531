import { and, eq, gt, lte } from 'drizzle-orm';
import type { Db } from '../db/connection.ts';
import { sessions, users } from '../db/schema/auth.ts';
import type { UserRecord } from './user-queries.ts';

export type SessionRecord = typeof sessions.$inferSelect;

export function insertSession(db: Db, session: SessionRecord): void {
  db.insert(sessions).values(session).run();
}

export function findLiveSession(
  db: Db,
  idHash: string,
  now: number,
): { session: SessionRecord; user: UserRecord } | undefined {
  return db
    .select({ session: sessions, user: users })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(eq(sessions.idHash, idHash), gt(sessions.expiresAt, now)))
    .get();
}

export function extendSession(db: Db, idHash: string, expiresAt: number): void {
  db.update(sessions).set({ expiresAt }).where(eq(sessions.idHash, idHash)).run();
}

export function deleteSession(db: Db, idHash: string): void {
  db.delete(sessions).where(eq(sessions.idHash, idHash)).run();
}

export function deleteSessionsOfUser(db: Db, userId: number): void {
  db.delete(sessions).where(eq(sessions.userId, userId)).run();
}

export function deleteExpiredSessions(db: Db, now: number): number {
  return db.delete(sessions).where(lte(sessions.expiresAt, now)).run().changes;
}
