import type { Audit } from '../audit/audit.ts';
import { unauthorized } from '../lib/errors.ts';
import type { LoginLimiter } from './login-limiter.ts';
import type { Sessions } from './sessions.ts';
import { TOKEN_PREFIX, type DeploymentBinding, type ResolvedToken, type TokenScope, type Tokens } from './tokens.ts';
import type { UserRecord, Users } from './users.ts';

/** Who is calling, and how they proved it. Session callers must also present the session's CSRF token to write. */
export interface Principal {
  user: UserRecord;
  via: 'session' | 'token' | 'basic';
  scope: TokenScope;
  csrfToken?: string;
  /** The run a job's token is bound to: such a caller may write to that run only (the server's run-scope check). */
  runScope?: string;
  /** The deployment a deployment's token is bound to: such a caller may call /serve/<name>/... of that project only. */
  deploymentScope?: DeploymentBinding;
}

export interface Client {
  ip: string;
  userAgent: string;
}

export interface Credentials {
  /** Undefined for an anonymous request; 401 for credentials that were presented but are wrong. */
  identify(request: { authorization?: string; sessionCookie?: string }, client: Client): Promise<Principal | undefined>;
  signIn(username: string, password: string, client: Client): Promise<{ cookieValue: string; principal: Principal }>;
  signOut(cookieValue: string, principal: Principal, client: Client): void;
}

const invalidToken = () => unauthorized('the token is invalid, expired or revoked');

function tokenPrincipal({ user, scope, runUuid, deployment }: ResolvedToken): Principal {
  return { user, via: 'token', scope, ...(runUuid !== null && { runScope: runUuid }), ...(deployment !== null && { deploymentScope: deployment }) };
}

export function createCredentials(deps: {
  users: Users;
  tokens: Tokens;
  sessions: Sessions;
  limiter: LoginLimiter;
  audit: Audit;
}): Credentials {
  const { users, tokens, sessions, limiter, audit } = deps;
  const limitKeys = (username: string, client: Client) => [`ip:${client.ip}`, `user:${username}`];

  async function checkPassword(username: string, password: string, client: Client, how: string) {
    const keys = limitKeys(username, client);
    limiter.check(keys);
    const user = await users.authenticate(username, password);
    if (!user) {
      limiter.fail(keys);
      audit.record({ actor: username, action: 'login.failure', detail: { via: how }, ip: client.ip });
      throw unauthorized('wrong username or password');
    }
    limiter.succeed([`user:${username}`]);
    return user;
  }

  async function fromBasic(encoded: string, client: Client): Promise<Principal> {
    const decoded = Buffer.from(encoded, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw unauthorized('malformed Basic credentials');
    const username = decoded.slice(0, colon);
    const secret = decoded.slice(colon + 1);
    if (secret.startsWith(TOKEN_PREFIX)) {
      const found = tokens.resolve(secret);
      if (!found || found.user.username !== username) throw invalidToken();
      return tokenPrincipal(found);
    }
    return { user: await checkPassword(username, secret, client, 'basic'), via: 'basic', scope: 'write' };
  }

  return {
    async identify({ authorization, sessionCookie }, client) {
      if (authorization) {
        const [scheme = '', value = ''] = authorization.trim().split(/\s+/, 2);
        switch (scheme.toLowerCase()) {
          case 'bearer': {
            const found = tokens.resolve(value);
            if (!found) throw invalidToken();
            return tokenPrincipal(found);
          }
          case 'basic':
            return fromBasic(value, client);
          default:
            throw unauthorized(`unsupported Authorization scheme "${scheme}": use Bearer or Basic`);
        }
      }
      if (sessionCookie) {
        const session = sessions.resolve(sessionCookie);
        if (session) return { user: session.user, via: 'session', scope: 'write', csrfToken: session.csrfToken };
      }
      return undefined;
    },
    async signIn(username, password, client) {
      const user = await checkPassword(username, password, client, 'password');
      const session = sessions.start(user, client);
      audit.record({ actor: user.username, action: 'login.success', ip: client.ip });
      return {
        cookieValue: session.cookieValue,
        principal: { user, via: 'session', scope: 'write', csrfToken: session.csrfToken },
      };
    },
    signOut(cookieValue, principal, client) {
      sessions.end(cookieValue);
      audit.record({ actor: principal.user.username, action: 'logout', ip: client.ip });
    },
  };
}
