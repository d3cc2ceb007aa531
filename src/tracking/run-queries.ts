import { eq } from 'drizzle-orm';
import type { Db } from '../db/connection.ts';
import { runs } from '../db/schema/tracking.ts';

export type RunRecord = typeof runs.$inferSelect;

export function findRun(db: Db, runUuid: string): RunRecord | undefined {
  return db.select().from(runs).where(eq(runs.runUuid, runUuid)).get();
}
