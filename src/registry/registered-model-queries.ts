import { and, asc, eq, exists, inArray, notExists, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/connection.ts';
import { registeredModelAliases, registeredModels, registeredModelTags } from '../db/schema/registry.ts';
import { compareText, inSlices, ordered } from './registry-sql.ts';
import { IS_PROMPT, type ModelOrderField, type SearchSpec } from './registry-search.ts';
import type { Tag } from './registry-validation.ts';

export type RegisteredModelRecord = typeof registeredModels.$inferSelect;
export type NewRegisteredModel = Omit<typeof registeredModels.$inferInsert, 'id'>;
export interface AliasRecord {
  alias: string;
  version: number;
}

export function findRegisteredModel(db: Db, name: string): RegisteredModelRecord | undefined {
  return db.select().from(registeredModels).where(eq(registeredModels.name, name)).get();
}

export function insertRegisteredModel(db: Db, model: NewRegisteredModel, tags: Tag[]): RegisteredModelRecord {
  return db.$client.transaction(() => {
    const record = db.insert(registeredModels).values(model).returning().get();
    if (tags.length > 0) db.insert(registeredModelTags).values(tags.map((tag) => ({ modelId: record.id, ...tag }))).run();
    return record;
  })();
}

export function updateRegisteredModel(
  db: Db,
  id: number,
  changes: Partial<Pick<RegisteredModelRecord, 'name' | 'description' | 'lastUpdatedTimestamp'>>,
): void {
  db.update(registeredModels).set(changes).where(eq(registeredModels.id, id)).run();
}

/** Versions, their tags, the model's tags and aliases go with it (ON DELETE CASCADE). */
export function deleteRegisteredModel(db: Db, id: number): void {
  db.delete(registeredModels).where(eq(registeredModels.id, id)).run();
}

function groupBy<T extends { modelId: number }, V>(rows: T[], value: (row: T) => V): Map<number, V[]> {
  const groups = new Map<number, V[]>();
  for (const row of rows) {
    const group = groups.get(row.modelId);
    if (group) group.push(value(row));
    else groups.set(row.modelId, [value(row)]);
  }
  return groups;
}

export function listModelTags(db: Db, modelIds: number[]): Map<number, Tag[]> {
  if (modelIds.length === 0) return new Map();
  const rows = inSlices(modelIds, (slice) =>
    db.select().from(registeredModelTags).where(inArray(registeredModelTags.modelId, slice)).orderBy(asc(registeredModelTags.key)).all(),
  );
  return groupBy(rows, ({ key, value }) => ({ key, value }));
}

export function upsertModelTag(db: Db, modelId: number, tag: Tag): void {
  db.insert(registeredModelTags)
    .values({ modelId, ...tag })
    .onConflictDoUpdate({ target: [registeredModelTags.modelId, registeredModelTags.key], set: { value: tag.value } })
    .run();
}

export function deleteModelTag(db: Db, modelId: number, key: string): void {
  db.delete(registeredModelTags).where(and(eq(registeredModelTags.modelId, modelId), eq(registeredModelTags.key, key))).run();
}

export function listAliases(db: Db, modelIds: number[]): Map<number, AliasRecord[]> {
  if (modelIds.length === 0) return new Map();
  const rows = inSlices(modelIds, (slice) =>
    db.select().from(registeredModelAliases).where(inArray(registeredModelAliases.modelId, slice)).orderBy(asc(registeredModelAliases.alias)).all(),
  );
  return groupBy(rows, ({ alias, version }) => ({ alias, version }));
}

export function findAliasVersion(db: Db, modelId: number, alias: string): number | undefined {
  return db
    .select({ version: registeredModelAliases.version })
    .from(registeredModelAliases)
    .where(and(eq(registeredModelAliases.modelId, modelId), eq(registeredModelAliases.alias, alias)))
    .get()?.version;
}

export function upsertAlias(db: Db, modelId: number, alias: string, version: number): void {
  db.insert(registeredModelAliases)
    .values({ modelId, alias, version })
    .onConflictDoUpdate({ target: [registeredModelAliases.modelId, registeredModelAliases.alias], set: { version } })
    .run();
}

export function deleteAlias(db: Db, modelId: number, alias: string): void {
  db.delete(registeredModelAliases).where(and(eq(registeredModelAliases.modelId, modelId), eq(registeredModelAliases.alias, alias))).run();
}

export function deleteAliasesOfVersion(db: Db, modelId: number, version: number): void {
  db.delete(registeredModelAliases).where(and(eq(registeredModelAliases.modelId, modelId), eq(registeredModelAliases.version, version))).run();
}

const MODEL_ORDER = {
  name: registeredModels.name,
  creation_timestamp: registeredModels.creationTimestamp,
  last_updated_timestamp: registeredModels.lastUpdatedTimestamp,
} as const;

function tagMatches(key: string, condition: SQL): SQL {
  return sql`${registeredModelTags.modelId} = ${registeredModels.id} and ${registeredModelTags.key} = ${key} and ${condition}`;
}

/** One page plus one row more, so the caller knows whether another page follows. */
export function searchRegisteredModels(db: Db, projectIds: number[] | undefined, spec: SearchSpec<ModelOrderField>): RegisteredModelRecord[] {
  const conditions: SQL[] = [];
  if (projectIds) conditions.push(projectIds.length > 0 ? inArray(registeredModels.projectId, projectIds) : sql`0`);
  for (const condition of spec.attributes) {
    if (condition.field === 'name') conditions.push(compareText(registeredModels.name, condition.comparator, condition.value));
  }
  const tagRows = (condition: SQL) => db.select({ one: sql`1` }).from(registeredModelTags).where(condition);
  for (const { key, comparator, value } of spec.tags) {
    conditions.push(exists(tagRows(tagMatches(key, compareText(registeredModelTags.value, comparator, value)))));
  }
  if (spec.excludePrompts) conditions.push(notExists(tagRows(tagMatches(IS_PROMPT, sql`${registeredModelTags.value} = 'true'`))));
  return db
    .select()
    .from(registeredModels)
    .where(and(...conditions))
    .orderBy(...spec.order.map(({ field, ascending }) => ordered(MODEL_ORDER[field], ascending)))
    .limit(spec.maxResults + 1)
    .offset(spec.offset)
    .all();
}
