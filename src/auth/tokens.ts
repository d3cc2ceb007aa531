import { z } from 'zod';
import type { Db } from '../db/connection.ts';
import type { Audit } from '../audit/audit.ts';
import { badRequest, notFound } from '../lib/errors.ts';
import { parseDuration } from '../lib/duration.ts';
import { randomSecret, sha256 } from '../lib/secrets.ts';
import { prepareUserById, type UserRecord } from './user-queries.ts';
import {
  insertToken,
  listDeploymentTokenRecords,
  listTokensOfUser,
  markTokenUsed,
  prepareTokenLookup,
  revokeDeploymentTokenRecord,
  revokeRunTokenRecords,
  revokeTokenRecord,
  type DeploymentBinding,
  type TokenRecord,
} from './token-queries.ts';

export type { DeploymentBinding };

export const TOKEN_PREFIX = 'ty_';
export type TokenScope = TokenRecord['scope'];

export const newTokenSchema = z.strictObject({
  name: z.string().trim().min(1, 'a token needs a name').max(100),
  scope: z.enum(['read', 'write']).default('write'),
  /** `30d`, `12h`, ...; absent or empty for a token that does not expire. */
  expiresIn: z.string().trim().optional(),
});

export const newDeploymentTokenSchema = newTokenSchema.omit({ scope: true });

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
  /** The deployment name a deployment's token may call; null for any other token. */
  deployment: string | null;
}

export function publicToken(token: TokenRecord): PublicToken {
  const { tokenHash: _hash, userId: _user, deploymentProjectId: _project, deploymentName, ...rest } = token;
  return { ...rest, deployment: deploymentName };
}

type Actor = { actor: string; ip?: string };
type Minted = { secret: string; token: PublicToken };

export interface ResolvedToken {
  user: UserRecord;
  scope: TokenScope;
  /** Set for a run-scoped token: the one run it may write to. */
  runUuid: string | null;
  /** Set for a deployment's token: the one deployment name it may call. */
  deployment: DeploymentBinding | null;
}

export interface Tokens {
  /** The secret is in the answer once; only its digest is stored. */
  create(user: UserRecord, input: z.input<typeof newTokenSchema>, by: Actor): Minted;
  /**
   * A token bound to one MLflow run, for the job that logs to it: the server lets it write to that run only and
   * read within the run's project. Made by the scheduler, never through the API.
   */
  createForRun(user: UserRecord, input: { runUuid: string; name: string; expiresAt: number }, by: Actor): Minted;
  /**
   * A token that may call one deployment name of a project through /serve/ and nothing else, acting as `user` (who
   * must keep the right to call it). The deployments domain checks who may make one.
   */
  createForDeployment(user: UserRecord, deployment: DeploymentBinding, input: z.input<typeof newDeploymentTokenSchema>, by: Actor): Minted;
  resolve(secret: string): ResolvedToken | undefined;
  list(user: UserRecord): PublicToken[];
  /** The tokens bound to a deployment name, whoever made them, newest first. */
  listForDeployment(deployment: DeploymentBinding): TokenRecord[];
  revoke(user: UserRecord, id: number, by: Actor): PublicToken;
  /** Revokes every live token bound to the run; how many there were. */
  revokeForRun(runUuid: string, by: Actor): number;
  revokeForDeployment(deployment: DeploymentBinding, id: number, by: Actor): TokenRecord;
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

  type Binding = { runUuid: string | null; deployment: DeploymentBinding | null };
  const mint = (user: UserRecord, fields: { name: string; scope: TokenScope; expiresAt: number | null } & Binding, by: Actor): Minted => {
    const secret = TOKEN_PREFIX + randomSecret(30);
    const { deployment, ...columns } = fields;
    const token = insertToken(db, {
      ...columns,
      deploymentProjectId: deployment?.projectId ?? null,
      deploymentName: deployment?.name ?? null,
      userId: user.id,
      tokenHash: sha256(secret),
      prefix: secret.slice(0, TOKEN_PREFIX.length + 6),
      createdAt: deps.now(),
    });
    const { scope, expiresAt, runUuid } = fields;
    const detail = { id: token.id, scope, expiresAt, ...(runUuid && { run: runUuid }), ...(deployment && { deployment: deployment.name, projectId: deployment.projectId }) };
    audit.record({ ...by, action: 'token.create', target: `${user.username}/${fields.name}`, detail });
    return { secret, token: publicToken(token) };
  };

  const expiryOf = (expiresIn: string | undefined): number | null => {
    if (!expiresIn) return null;
    const ms = parseDuration(expiresIn);
    if (ms === undefined) throw badRequest(`expiresIn "${expiresIn}" is not a duration like 12h, 30d or 2w`);
    return deps.now() + ms;
  };

  return {
    create(user, input, by) {
      const { name, scope, expiresIn } = newTokenSchema.parse(input);
      return mint(user, { name, scope, expiresAt: expiryOf(expiresIn), runUuid: null, deployment: null }, by);
    },
    createForRun(user, { runUuid, name, expiresAt }, by) {
      return mint(user, { name, scope: 'write', expiresAt, runUuid, deployment: null }, by);
    },
    createForDeployment(user, deployment, input, by) {
      const { name, expiresIn } = newDeploymentTokenSchema.parse(input);
      return mint(user, { name, scope: 'write', expiresAt: expiryOf(expiresIn), runUuid: null, deployment }, by);
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
      const deployment = token.deploymentProjectId === null || token.deploymentName === null ? null : { projectId: token.deploymentProjectId, name: token.deploymentName };
      return { user, scope: token.scope, runUuid: token.runUuid, deployment };
    },
    list(user) {
      return listTokensOfUser(db, user.id).map(publicToken);
    },
    listForDeployment: (deployment) => listDeploymentTokenRecords(db, deployment),
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
    revokeForDeployment(deployment, id, by) {
      const token = revokeDeploymentTokenRecord(db, deployment, id, deps.now());
      if (!token) throw notFound(`deployment "${deployment.name}" has no live token ${id}`);
      remembered.clear();
      audit.record({ ...by, action: 'token.revoke', target: token.name, detail: { id, deployment: deployment.name, projectId: deployment.projectId } });
      return token;
    },
  };
}
