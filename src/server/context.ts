import type { Context } from 'hono';
import type { Principal } from '../auth/credentials.ts';
import { forbidden, unauthorized } from '../lib/errors.ts';

export type AppEnv = {
  Variables: {
    principal: Principal | undefined;
    clientIp: string;
  };
};

export type AppContext = Context<AppEnv>;

export function principalOf(c: AppContext): Principal {
  const principal = c.get('principal');
  if (!principal) throw unauthorized();
  return principal;
}

export function requireSiteAdmin(c: AppContext): Principal {
  const principal = principalOf(c);
  if (!principal.user.isAdmin) throw forbidden('only site admins may do this');
  return principal;
}

/** Who to name in the audit log for this request. */
export function actorOf(c: AppContext) {
  return { actor: principalOf(c).user.username, ip: c.get('clientIp') };
}

/** Requests from htmx get fragments and fragment-shaped errors; everything else gets whole pages. */
export function isHtmx(c: Context): boolean {
  return c.req.header('HX-Request') === 'true';
}

/** Paths that programs call (the APIs, a Prometheus scrape): refusals are JSON with a status, never a redirect to sign in. */
export function isMachinePath(path: string): boolean {
  return path.startsWith('/api/') || path.startsWith('/ajax-api/') || path === '/metrics';
}

export function wantsJson(c: Context): boolean {
  return isMachinePath(c.req.path);
}
