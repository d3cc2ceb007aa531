import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import type { Db } from '../db/connection.ts';
import { apiTokens, users } from '../db/schema/auth.ts';
import type { UserRecord } from './user-queries.ts';

export type TokenRecord = typeof apiTokens.$inferSelect;
export type NewTokenRecord = typeof apiTokens.$inferInsert;

export function insertToken(db: Db, token: NewTokenRecord): TokenRecord {
  return db.insert(apiTokens).values(token).returning().get();
}

/**
 * The lookup every token-authenticated request makes, prepared on first use (after migrations ran) and then
 * reused: building the query costs more than running it.
 */
export function prepareTokenLookup(db: Db): (tokenHash: string) => { token: TokenRecord; user: UserRecord } | undefined {
  const build = () =>
    db
      .select({ token: apiTokens, user: users })
      .from(apiTokens)
      .innerJoin(users, eq(users.id, apiTokens.userId))
      .where(eq(apiTokens.tokenHash, sql.placeholder('tokenHash')))
      .prepare();
  let statement: ReturnType<typeof build> | undefined;
  return (tokenHash) => (statement ??= build()).get({ tokenHash });
}

export function listTokensOfUser(db: Db, userId: number): TokenRecord[] {
  return db.select().from(apiTokens).where(eq(apiTokens.userId, userId)).orderBy(desc(apiTokens.id)).all();
}

export function markTokenUsed(db: Db, id: number, at: number): void {
  db.update(apiTokens).set({ lastUsedAt: at }).where(eq(apiTokens.id, id)).run();
}

/** Returns the revoked token, or undefined when the user has no such live token. */
export function revokeTokenRecord(db: Db, userId: number, id: number, at: number): TokenRecord | undefined {
  return db
    .update(apiTokens)
    .set({ revokedAt: at })
    .where(and(eq(apiTokens.id, id), eq(apiTokens.userId, userId), isNull(apiTokens.revokedAt)))
    .returning()
    .get();
}

/** Revokes the live tokens bound to a run; the ones it revoked. */
export function revokeRunTokenRecords(db: Db, runUuid: string, at: number): TokenRecord[] {
  return db
    .update(apiTokens)
    .set({ revokedAt: at })
    .where(and(eq(apiTokens.runUuid, runUuid), isNull(apiTokens.revokedAt)))
    .returning()
    .all();
}
