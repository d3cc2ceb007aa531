import { and, asc, eq, exists, getTableColumns, inArray, max, ne, notExists, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/connection.ts';
import { modelVersions, modelVersionTags, registeredModels } from '../db/schema/registry.ts';
import { compareText, inSlices, ordered } from './registry-sql.ts';
import { IS_PROMPT, type AttributeCondition, type SearchSpec, type VersionOrderField } from './registry-search.ts';
import type { Stage, Tag } from './registry-validation.ts';

export type ModelVersionRecord = typeof modelVersions.$inferSelect;
export type NewModelVersion = typeof modelVersions.$inferInsert;
export type NamedVersionRecord = ModelVersionRecord & { name: string };

/**
 * A deleted version stays behind as a redacted row in this stage, as in MLflow, so that its number is never
 * handed out again; every read leaves such rows out.
 */
const DELETED_STAGE = 'Deleted_Internal';
const isLive = ne(modelVersions.currentStage, sql`${DELETED_STAGE}`);

export const versionKey = (modelId: number, version: number) => `${modelId}/${version}`;

export function findModelVersion(db: Db, modelId: number, version: number): ModelVersionRecord | undefined {
  return db
    .select()
    .from(modelVersions)
    .where(and(eq(modelVersions.modelId, modelId), eq(modelVersions.version, version), isLive))
    .get();
}

export function listLiveVersions(db: Db, modelIds: number[]): ModelVersionRecord[] {
  return inSlices(modelIds, (slice) =>
    db
      .select()
      .from(modelVersions)
      .where(and(inArray(modelVersions.modelId, slice), isLive))
      .orderBy(asc(modelVersions.modelId), asc(modelVersions.version))
      .all(),
  );
}

/** Counts deleted versions too: numbers are never reused. */
export function nextVersionNumber(db: Db, modelId: number): number {
  const row = db.select({ highest: max(modelVersions.version) }).from(modelVersions).where(eq(modelVersions.modelId, modelId)).get();
  return (row?.highest ?? 0) + 1;
}

export function insertModelVersion(db: Db, version: NewModelVersion, tags: Tag[]): ModelVersionRecord {
  const record = db.insert(modelVersions).values(version).returning().get();
  if (tags.length > 0) {
    db.insert(modelVersionTags)
      .values(tags.map((tag) => ({ modelId: record.modelId, version: record.version, ...tag })))
      .run();
  }
  return record;
}

export function updateModelVersion(
  db: Db,
  modelId: number,
  version: number,
  changes: Partial<Pick<ModelVersionRecord, 'description' | 'currentStage' | 'lastUpdatedTimestamp'>>,
): void {
  db.update(modelVersions)
    .set(changes)
    .where(and(eq(modelVersions.modelId, modelId), eq(modelVersions.version, version)))
    .run();
}

export function touchVersionsOf(db: Db, modelId: number, at: number): void {
  db.update(modelVersions).set({ lastUpdatedTimestamp: at }).where(and(eq(modelVersions.modelId, modelId), isLive)).run();
}

/** Moves the other versions in `stage` to Archived. */
export function archiveStage(db: Db, modelId: number, keepVersion: number, stage: Stage, at: number): void {
  db.update(modelVersions)
    .set({ currentStage: 'Archived', lastUpdatedTimestamp: at })
    .where(and(eq(modelVersions.modelId, modelId), ne(modelVersions.version, keepVersion), eq(modelVersions.currentStage, stage)))
    .run();
}

export function redactModelVersion(db: Db, modelId: number, version: number, at: number): void {
  db.update(modelVersions)
    .set({
      currentStage: sql`${DELETED_STAGE}`,
      lastUpdatedTimestamp: at,
      description: '',
      userId: '',
      source: 'REDACTED-SOURCE-PATH',
      runId: 'REDACTED-RUN-ID',
      runLink: 'REDACTED-RUN-LINK',
      storageLocation: '',
      statusMessage: null,
    })
    .where(and(eq(modelVersions.modelId, modelId), eq(modelVersions.version, version)))
    .run();
  db.delete(modelVersionTags).where(and(eq(modelVersionTags.modelId, modelId), eq(modelVersionTags.version, version))).run();
}

export function listVersionTags(db: Db, versions: Array<{ modelId: number; version: number }>): Map<string, Tag[]> {
  const rows = inSlices(versions, (slice) => {
    const wanted = new Set(slice.map(({ modelId, version }) => versionKey(modelId, version)));
    return db
      .select()
      .from(modelVersionTags)
      .where(
        and(
          inArray(modelVersionTags.modelId, [...new Set(slice.map(({ modelId }) => modelId))]),
          inArray(modelVersionTags.version, [...new Set(slice.map(({ version }) => version))]),
        ),
      )
      .orderBy(asc(modelVersionTags.key))
      .all()
      .filter(({ modelId, version }) => wanted.has(versionKey(modelId, version)));
  });
  const tags = new Map<string, Tag[]>();
  for (const { modelId, version, key, value } of rows) {
    const id = versionKey(modelId, version);
    const list = tags.get(id);
    if (list) list.push({ key, value });
    else tags.set(id, [{ key, value }]);
  }
  return tags;
}

export function upsertVersionTag(db: Db, modelId: number, version: number, tag: Tag): void {
  db.insert(modelVersionTags)
    .values({ modelId, version, ...tag })
    .onConflictDoUpdate({ target: [modelVersionTags.modelId, modelVersionTags.version, modelVersionTags.key], set: { value: tag.value } })
    .run();
}

export function deleteVersionTag(db: Db, modelId: number, version: number, key: string): void {
  db.delete(modelVersionTags)
    .where(and(eq(modelVersionTags.modelId, modelId), eq(modelVersionTags.version, version), eq(modelVersionTags.key, key)))
    .run();
}

const VERSION_ORDER = {
  name: registeredModels.name,
  version: modelVersions.version,
  creation_timestamp: modelVersions.creationTimestamp,
  last_updated_timestamp: modelVersions.lastUpdatedTimestamp,
} as const;

function attributeCondition(condition: AttributeCondition): SQL {
  if (condition.field === 'version') {
    const { comparator, value } = condition;
    return sql`${modelVersions.version} ${sql.raw(comparator)} ${value}`;
  }
  const column = { name: registeredModels.name, source: modelVersions.source, run_id: modelVersions.runId }[condition.field];
  if (condition.comparator === 'IN') return inArray(column, condition.value);
  return compareText(column, condition.comparator, condition.value);
}

/** One page plus one row more, so the caller knows whether another page follows. */
export function searchModelVersions(db: Db, projectIds: number[] | undefined, spec: SearchSpec<VersionOrderField>): NamedVersionRecord[] {
  const conditions: SQL[] = [isLive, ...spec.attributes.map(attributeCondition)];
  if (projectIds) conditions.push(projectIds.length > 0 ? inArray(registeredModels.projectId, projectIds) : sql`0`);
  for (const { key, comparator, value } of spec.tags) {
    const matches = db
      .select({ one: sql`1` })
      .from(modelVersionTags)
      .where(
        and(
          eq(modelVersionTags.modelId, modelVersions.modelId),
          eq(modelVersionTags.version, modelVersions.version),
          eq(modelVersionTags.key, key),
          compareText(modelVersionTags.value, comparator, value),
        ),
      );
    conditions.push(exists(matches));
  }
  if (spec.excludePrompts) {
    const prompts = db
      .select({ one: sql`1` })
      .from(modelVersionTags)
      .where(and(eq(modelVersionTags.modelId, modelVersions.modelId), eq(modelVersionTags.key, IS_PROMPT), eq(modelVersionTags.value, 'true')));
    conditions.push(notExists(prompts));
  }
  return db
    .select({ ...getTableColumns(modelVersions), name: registeredModels.name })
    .from(modelVersions)
    .innerJoin(registeredModels, eq(registeredModels.id, modelVersions.modelId))
    .where(and(...conditions))
    .orderBy(...spec.order.map(({ field, ascending }) => ordered(VERSION_ORDER[field], ascending)))
    .limit(spec.maxResults + 1)
    .offset(spec.offset)
    .all();
}
