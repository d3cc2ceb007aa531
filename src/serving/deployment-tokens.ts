import { z } from 'zod';
import type { Projects } from '../auth/projects.ts';
import type { TokenRecord } from '../auth/token-queries.ts';
import { publicToken, type newDeploymentTokenSchema, type PublicToken, type Tokens } from '../auth/tokens.ts';
import type { UserRecord } from '../auth/user-queries.ts';
import type { Users } from '../auth/users.ts';
import type { Caller } from '../registry/registry.ts';
import type { DeploymentRecord, Deployments } from './deployments.ts';

/** A token's id as a path names it. */
export const tokenIdSchema = z
  .string()
  .regex(/^[1-9]\d{0,15}$/, 'a token id is a whole number, like 3')
  .transform(Number);

/** A deployment's token as its editors see it: never the secret, which is shown once when it is made. */
export interface DeploymentTokenJson {
  id: number;
  name: string;
  /** The secret's first characters, to tell tokens apart. */
  prefix: string;
  createdBy: string;
  createdAt: number;
  expiresAt: number | null;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

/**
 * Tokens that may call one deployment through /serve/<name>/... and nothing else, for programs that call a model and
 * should hold no more than that. The editors of the deployment's project make, list and revoke them. A token is bound
 * to the deployment's name within its project: it keeps working when the name is undeployed and deployed again there.
 */
export interface DeploymentTokens {
  /** `token` is the secret, in this answer only. */
  create(caller: Caller, name: string, input: z.input<typeof newDeploymentTokenSchema>): DeploymentTokenJson & { token: string };
  /** Newest first, revoked ones included. */
  list(user: UserRecord, name: string): DeploymentTokenJson[];
  revoke(caller: Caller, name: string, id: number): DeploymentTokenJson;
}

export function createDeploymentTokens(deps: { deployments: Deployments; projects: Projects; tokens: Tokens; users: Users }): DeploymentTokens {
  const { deployments, projects, tokens, users } = deps;
  const bindingOf = ({ projectId, name }: DeploymentRecord) => ({ projectId, name });
  const actorOf = ({ user, ip }: Caller) => ({ actor: user.username, ...(ip && { ip }) });
  /** Even a stopped deployment's tokens are listed and revoked, as they come back to life with the name. */
  const managed = (user: UserRecord, name: string) => {
    const deployment = deployments.get(user, name);
    projects.authorizeId(user, deployment.projectId, 'editor');
    return deployment;
  };
  const tokenJson = ({ id, name, prefix, createdAt, expiresAt, lastUsedAt, revokedAt }: PublicToken, createdBy: string): DeploymentTokenJson => ({
    id,
    name,
    prefix,
    createdBy,
    createdAt,
    expiresAt,
    lastUsedAt,
    revokedAt,
  });
  const recordJson = (token: TokenRecord) => tokenJson(publicToken(token), users.byId(token.userId)?.username ?? `user ${token.userId}`);

  return {
    create(caller, name, input) {
      const deployment = deployments.editable(caller.user, name);
      const { secret, token } = tokens.createForDeployment(caller.user, bindingOf(deployment), input, actorOf(caller));
      return { ...tokenJson(token, caller.user.username), token: secret };
    },
    list: (user, name) => tokens.listForDeployment(bindingOf(managed(user, name))).map(recordJson),
    revoke: (caller, name, id) => recordJson(tokens.revokeForDeployment(bindingOf(managed(caller.user, name)), id, actorOf(caller))),
  };
}
