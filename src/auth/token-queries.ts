import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import type { Db } from '../db/connection.ts';
import { apiTokens } from '../db/schema/auth.ts';

export type TokenRecord = typeof apiTokens.$inferSelect;
export type NewTokenRecord = typeof apiTokens.$inferInsert;

export function insertToken(db: Db, token: NewTokenRecord): TokenRecord {
  return db.insert(apiTokens).values(token).returning().get();
}

/**
 * The lookup a token-authenticated request makes when Tokens does not remember the token, prepared on first use
 * (after migrations ran) and then reused: building the query costs more than running it. The token's row alone, its
 * user being read by id: SQLite (built with STAT4) compiles a join on a bound value again on every run, which costs
 * several times the two point reads.
 */
export function prepareTokenLookup(db: Db): (tokenHash: string) => TokenRecord | undefined {
  const build = () =>
    db
      .select()
      .from(apiTokens)
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

/** Where a deployment's tokens are bound: a deployment name within a project. */
export interface DeploymentBinding {
  projectId: number;
  name: string;
}

const boundTo = ({ projectId, name }: DeploymentBinding) => and(eq(apiTokens.deploymentProjectId, projectId), eq(apiTokens.deploymentName, name));

/** The tokens bound to a deployment name, newest first, revoked ones included. */
export function listDeploymentTokenRecords(db: Db, deployment: DeploymentBinding): TokenRecord[] {
  return db.select().from(apiTokens).where(boundTo(deployment)).orderBy(desc(apiTokens.id)).all();
}

/** Returns the revoked token, or undefined when no live token `id` is bound to the deployment name. */
export function revokeDeploymentTokenRecord(db: Db, deployment: DeploymentBinding, id: number, at: number): TokenRecord | undefined {
  return db
    .update(apiTokens)
    .set({ revokedAt: at })
    .where(and(eq(apiTokens.id, id), boundTo(deployment), isNull(apiTokens.revokedAt)))
    .returning()
    .get();
}
