import type { Statement } from 'better-sqlite3';
import { and, eq, gte, inArray } from 'drizzle-orm';
import type { Db } from '../db/connection.ts';
import { params, runInputs, runOutputs, runTags, runs } from '../db/schema/tracking.ts';
import type { Tag } from './experiment-queries.ts';

export type RunRecord = typeof runs.$inferSelect;
export type RunStatus = RunRecord['status'];
export type RunInputRecord = typeof runInputs.$inferInsert;

export function findRun(db: Db, runUuid: string): RunRecord | undefined {
  return db.select().from(runs).where(eq(runs.runUuid, runUuid)).get();
}

export type RunWithProject = RunRecord & { projectId: number };

/**
 * Finds a run with the project it belongs to (through its experiment), which decides who may touch it. Every
 * write checks this, log-metric included, so it is a raw statement prepared once (on first use: the app is built
 * before its database is migrated). A subquery, not a join: SQLite's per-run join set-up costs ~10x the lookup.
 */
export function createRunFinder(db: Db): (runUuid: string) => RunWithProject | undefined {
  let statement: Statement | undefined;
  return (runUuid) => {
    statement ??= db.$client.prepare(
      `SELECT r.run_uuid AS runUuid, r.experiment_id AS experimentId, r.name, r.user_id AS userId, r.status, r.start_time AS startTime,
              r.end_time AS endTime, r.artifact_uri AS artifactUri, r.lifecycle_stage AS lifecycleStage, r.deleted_time AS deletedTime,
              (SELECT project_id FROM experiments WHERE id = r.experiment_id) AS projectId
         FROM runs r WHERE r.run_uuid = ?`,
    );
    return statement.get(runUuid) as RunWithProject | undefined;
  };
}

export function insertRun(db: Db, run: typeof runs.$inferInsert, tags: Tag[]): void {
  db.insert(runs).values(run).run();
  upsertRunTags(db, run.runUuid, tags);
}

export function updateRun(db: Db, runUuid: string, fields: Partial<Omit<RunRecord, 'runUuid' | 'experimentId' | 'artifactUri'>>): void {
  db.update(runs).set(fields).where(eq(runs.runUuid, runUuid)).run();
}

export function upsertRunTags(db: Db, runUuid: string, tags: Tag[]): void {
  for (const { key, value } of tags) {
    db.insert(runTags).values({ runUuid, key, value }).onConflictDoUpdate({ target: [runTags.runUuid, runTags.key], set: { value } }).run();
  }
}

export function findRunTag(db: Db, runUuid: string, key: string): string | undefined {
  return db
    .select({ value: runTags.value })
    .from(runTags)
    .where(and(eq(runTags.runUuid, runUuid), eq(runTags.key, key)))
    .get()?.value;
}

export function deleteRunTag(db: Db, runUuid: string, key: string): boolean {
  return db.delete(runTags).where(and(eq(runTags.runUuid, runUuid), eq(runTags.key, key))).run().changes > 0;
}

/** The values already logged for these param keys. */
export function findParams(db: Db, runUuid: string, keys: string[]): Map<string, string> {
  if (keys.length === 0) return new Map();
  const rows = db
    .select({ key: params.key, value: params.value })
    .from(params)
    .where(and(eq(params.runUuid, runUuid), inArray(params.key, keys)))
    .all();
  return new Map(rows.map(({ key, value }) => [key, value]));
}

/** Params are written once: a key already there keeps its value. */
export function insertParams(db: Db, runUuid: string, values: Tag[]): void {
  for (const { key, value } of values) db.insert(params).values({ runUuid, key, value }).onConflictDoNothing().run();
}

/** A dataset logged twice to the same run (same name and digest) is kept once, with its first tags. */
export function insertRunInputs(db: Db, inputs: RunInputRecord[]): void {
  for (const input of inputs) db.insert(runInputs).values(input).onConflictDoNothing().run();
}

export function upsertRunOutputs(db: Db, runUuid: string, outputs: Array<{ modelId: string; step: number }>): void {
  for (const { modelId, step } of outputs) {
    db.insert(runOutputs).values({ runUuid, modelId, step }).onConflictDoUpdate({ target: [runOutputs.runUuid, runOutputs.modelId], set: { step } }).run();
  }
}

/** Deleting an experiment deletes its active runs, stamped with the same time. */
export function markExperimentRunsDeleted(db: Db, experimentId: number, at: number): void {
  db.update(runs)
    .set({ lifecycleStage: 'deleted', deletedTime: at })
    .where(and(eq(runs.experimentId, experimentId), eq(runs.lifecycleStage, 'active')))
    .run();
}

/** Restores the runs deleted when (or after) their experiment was. */
export function restoreExperimentRuns(db: Db, experimentId: number, deletedSince: number): void {
  db.update(runs)
    .set({ lifecycleStage: 'active', deletedTime: null })
    .where(and(eq(runs.experimentId, experimentId), eq(runs.lifecycleStage, 'deleted'), gte(runs.deletedTime, deletedSince)))
    .run();
}

export interface DatasetSummaryRecord {
  experimentId: number;
  name: string;
  digest: string;
  context: string | null;
}

/** The distinct datasets the runs of these experiments used, with the context tag MLflow shows (e.g. `training`). */
export function findDatasetSummaries(db: Db, experimentIds: number[], limit: number): DatasetSummaryRecord[] {
  return db.$client
    .prepare(
      `SELECT DISTINCT r.experiment_id AS experimentId, i.name, i.digest,
              (SELECT t.value ->> 'value' FROM json_each(i.tags) t WHERE t.value ->> 'key' = 'mlflow.data.context') AS context
         FROM run_inputs i JOIN runs r ON r.run_uuid = i.run_uuid
        WHERE r.experiment_id IN (SELECT value FROM json_each(?))
        ORDER BY r.experiment_id, i.name, i.digest LIMIT ?`,
    )
    .all(JSON.stringify(experimentIds), limit) as DatasetSummaryRecord[];
}
