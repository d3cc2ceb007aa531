import { eq } from 'drizzle-orm';
import type { Db } from '../db/connection.ts';
import { experiments } from '../db/schema/tracking.ts';

export type ExperimentRecord = typeof experiments.$inferSelect;

export function insertExperiment(db: Db, experiment: typeof experiments.$inferInsert): ExperimentRecord {
  return db.insert(experiments).values(experiment).returning().get();
}

export function findExperimentById(db: Db, id: number): ExperimentRecord | undefined {
  return db.select().from(experiments).where(eq(experiments.id, id)).get();
}

export function findExperimentByName(db: Db, name: string): ExperimentRecord | undefined {
  return db.select().from(experiments).where(eq(experiments.name, name)).get();
}
