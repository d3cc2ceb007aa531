import { and, asc, count, eq, inArray, max, sql } from 'drizzle-orm';
import type { Db } from '../db/connection.ts';
import { experimentTags, experiments, runs } from '../db/schema/tracking.ts';

export type ExperimentRecord = typeof experiments.$inferSelect;
export interface Tag {
  key: string;
  value: string;
}

export function insertExperiment(db: Db, experiment: typeof experiments.$inferInsert): ExperimentRecord {
  return db.insert(experiments).values(experiment).returning().get();
}

export function findExperimentById(db: Db, id: number): ExperimentRecord | undefined {
  return db.select().from(experiments).where(eq(experiments.id, id)).get();
}

export function findExperimentByName(db: Db, name: string): ExperimentRecord | undefined {
  return db.select().from(experiments).where(eq(experiments.name, name)).get();
}

/** MLflow numbers experiments from 0 (its Default experiment) up; ids are never reused. */
export function nextExperimentId(db: Db): number {
  return db.select({ next: sql<number>`coalesce(max(${experiments.id}), -1) + 1` }).from(experiments).get()!.next;
}

/** Those of `ids` that exist, in projects `projectIds` (any project when undefined). */
export function filterExperimentIds(db: Db, ids: number[], projectIds: number[] | undefined): number[] {
  if (ids.length === 0 || projectIds?.length === 0) return [];
  const conditions = [inArray(experiments.id, ids), ...(projectIds ? [inArray(experiments.projectId, projectIds)] : [])];
  return db.select({ id: experiments.id }).from(experiments).where(and(...conditions)).all().map(({ id }) => id);
}

/** How busy an experiment is: its active runs and when the latest of them started. */
export interface RunActivity {
  activeRuns: number;
  lastRunTime: number | null;
}

/** Run activity of those of `ids` in projects `projectIds` (any project when undefined), in one grouped query. */
export function summarizeRuns(db: Db, ids: number[], projectIds: number[] | undefined): Map<number, RunActivity> {
  if (ids.length === 0 || projectIds?.length === 0) return new Map();
  const visible = db
    .select({ id: experiments.id })
    .from(experiments)
    .where(and(inArray(experiments.id, ids), ...(projectIds ? [inArray(experiments.projectId, projectIds)] : [])));
  const rows = db
    .select({ experimentId: runs.experimentId, activeRuns: count(), lastRunTime: max(runs.startTime) })
    .from(runs)
    .where(and(inArray(runs.experimentId, visible), eq(runs.lifecycleStage, 'active')))
    .groupBy(runs.experimentId)
    .all();
  return new Map(rows.map(({ experimentId, ...activity }) => [experimentId, activity]));
}

export function updateExperiment(
  db: Db,
  id: number,
  fields: Partial<Pick<ExperimentRecord, 'name' | 'lifecycleStage' | 'lastUpdateTime'>>,
): void {
  db.update(experiments).set(fields).where(eq(experiments.id, id)).run();
}

/** Tags of each experiment, in the order they were first set. */
export function listExperimentTags(db: Db, ids: number[]): Map<number, Tag[]> {
  const byExperiment = new Map<number, Tag[]>();
  if (ids.length === 0) return byExperiment;
  const rows = db
    .select({ experimentId: experimentTags.experimentId, key: experimentTags.key, value: experimentTags.value })
    .from(experimentTags)
    .where(inArray(experimentTags.experimentId, ids))
    .orderBy(asc(sql`rowid`))
    .all();
  for (const { experimentId, key, value } of rows) {
    const tags = byExperiment.get(experimentId) ?? [];
    tags.push({ key, value });
    byExperiment.set(experimentId, tags);
  }
  return byExperiment;
}

export function upsertExperimentTags(db: Db, experimentId: number, tags: Tag[]): void {
  for (const { key, value } of tags) {
    db.insert(experimentTags)
      .values({ experimentId, key, value })
      .onConflictDoUpdate({ target: [experimentTags.experimentId, experimentTags.key], set: { value } })
      .run();
  }
}

export function deleteExperimentTag(db: Db, experimentId: number, key: string): boolean {
  return db.delete(experimentTags).where(and(eq(experimentTags.experimentId, experimentId), eq(experimentTags.key, key))).run().changes > 0;
}
