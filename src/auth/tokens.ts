import { z } from 'zod';
import type { Db } from '../db/connection.ts';
import type { Audit } from '../audit/audit.ts';
import { badRequest, notFound } from '../lib/errors.ts';
import { parseDuration } from '../lib/duration.ts';
import { randomSecret, sha256 } from '../lib/secrets.ts';
import { prepareUserById, type UserRecord } from './user-queries.ts';
import {
  insertToken,
  listTokensOfUser,
  markTokenUsed,
  prepareTokenLookup,
  revokeRunTokenRecords,
  revokeTokenRecord,
  type TokenRecord,
} from './token-queries.ts';

export const TOKEN_PREFIX = 'ty_';
export type TokenScope = TokenRecord['scope'];

export const newTokenSchema = z.strictObject({
  name: z.string().trim().min(1, 'a token needs a name').max(100),
  scope: z.enum(['read', 'write']).default('write'),
  /** `30d`, `12h`, ...; absent or empty for a token that does not expire. */
  expiresIn: z.string().trim().optional(),
});

export interface PublicToken {
  id: number;
  name: string;
  prefix: string;
  scope: TokenScope;
  createdAt: number;
  expiresAt: number | null;
  lastUsedAt: number | null;
  revokedAt: number | null;
  /** The MLflow run a job's token is bound to; null for a token a user made. */
  runUuid: string | null;
}

export function publicToken(token: TokenRecord): PublicToken {
  const { tokenHash: _hash, userId: _user, ...rest } = token;
  return rest;
}

type Actor = { actor: string; ip?: string };
type Minted = { secret: string; token: PublicToken };

export interface ResolvedToken {
  user: UserRecord;
  scope: TokenScope;
  /** Set for a run-scoped token: the one run it may write to. */
  runUuid: string | null;
}

export interface Tokens {
  /** The secret is in the answer once; only its digest is stored. */
  create(user: UserRecord, input: z.input<typeof newTokenSchema>, by: Actor): Minted;
  /**
   * A token bound to one MLflow run, for the job that logs to it: the server lets it write to that run only and
   * read within the run's project. Made by the scheduler, never through the API.
   */
  createForRun(user: UserRecord, input: { runUuid: string; name: string; expiresAt: number }, by: Actor): Minted;
  resolve(secret: string): ResolvedToken | undefined;
  list(user: UserRecord): PublicToken[];
  revoke(user: UserRecord, id: number, by: Actor): PublicToken;
  /** Revokes every live token bound to the run; how many there were. */
  revokeForRun(runUuid: string, by: Actor): number;
}

const LAST_USED_RESOLUTION_MS = 60_000;
/**
 * Clients send their token with every request, many a second while a run logs metrics: a token's row is trusted
 * this long before it is read again, which bounds how long a change made around Tokens goes unseen. Revoking through
 * Tokens forgets every remembered row at once; expiry is checked on every use, and the user is read on every use, so
 * a disabled user or a changed role counts at once too.
 */
const REMEMBERED_TTL_MS = 10_000;
const REMEMBERED_MAX = 1000;

export function createTokens(deps: { db: Db; audit: Audit; now: () => number }): Tokens {
  const { db, audit } = deps;
  const findByHash = prepareTokenLookup(db);
  const findUserById = prepareUserById(db);
  const remembered = new Map<string, { token: TokenRecord; until: number }>();

  const tokenOf = (tokenHash: string, now: number): TokenRecord | undefined => {
    const hit = remembered.get(tokenHash);
    if (hit && hit.until > now) return hit.token;
    const token = findByHash(tokenHash);
    if (!token) return undefined;
    if (remembered.size >= REMEMBERED_MAX) remembered.clear();
    remembered.set(tokenHash, { token, until: now + REMEMBERED_TTL_MS });
    return token;
  };

  const mint = (user: UserRecord, fields: { name: string; scope: TokenScope; expiresAt: number | null; runUuid: string | null }, by: Actor): Minted => {
    const secret = TOKEN_PREFIX + randomSecret(30);
    const token = insertToken(db, {
      ...fields,
      userId: user.id,
      tokenHash: sha256(secret),
      prefix: secret.slice(0, TOKEN_PREFIX.length + 6),
      createdAt: deps.now(),
    });
    const { scope, expiresAt, runUuid } = fields;
    audit.record({ ...by, action: 'token.create', target: `${user.username}/${fields.name}`, detail: { id: token.id, scope, expiresAt, ...(runUuid && { run: runUuid }) } });
    return { secret, token: publicToken(token) };
  };

  return {
    create(user, input, by) {
      const { name, scope, expiresIn } = newTokenSchema.parse(input);
      let expiresAt: number | null = null;
      if (expiresIn) {
        const ms = parseDuration(expiresIn);
        if (ms === undefined) throw badRequest(`expiresIn "${expiresIn}" is not a duration like 12h, 30d or 2w`);
        expiresAt = deps.now() + ms;
      }
      return mint(user, { name, scope, expiresAt, runUuid: null }, by);
    },
    createForRun(user, { runUuid, name, expiresAt }, by) {
      return mint(user, { name, scope: 'write', expiresAt, runUuid }, by);
    },
    resolve(secret) {
      const now = deps.now();
      const token = tokenOf(sha256(secret), now);
      if (!token || token.revokedAt !== null || (token.expiresAt !== null && token.expiresAt <= now)) return undefined;
      const user = findUserById(token.userId);
      if (!user || user.disabledAt !== null) return undefined;
      if (token.lastUsedAt === null || now - token.lastUsedAt > LAST_USED_RESOLUTION_MS) {
        markTokenUsed(db, token.id, now);
        token.lastUsedAt = now;
      }
      return { user, scope: token.scope, runUuid: token.runUuid };
    },
    list(user) {
      return listTokensOfUser(db, user.id).map(publicToken);
    },
    revoke(user, id, by) {
      const token = revokeTokenRecord(db, user.id, id, deps.now());
      if (!token) throw notFound(`no live token ${id} of user "${user.username}"`);
      remembered.clear();
      audit.record({ ...by, action: 'token.revoke', target: `${user.username}/${token.name}`, detail: { id } });
      return publicToken(token);
    },
    revokeForRun(runUuid, by) {
      const revoked = revokeRunTokenRecords(db, runUuid, deps.now());
      remembered.clear();
      for (const token of revoked) audit.record({ ...by, action: 'token.revoke', target: token.name, detail: { id: token.id, run: runUuid } });
      return revoked.length;
    },
  };
}
