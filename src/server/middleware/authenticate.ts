import type { MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import type { Credentials } from '../../auth/credentials.ts';
import { forbidden, HttpError } from '../../lib/errors.ts';
import { isHtmx, wantsJson, type AppEnv } from '../context.ts';

export const SESSION_COOKIE = 'trainyard_session';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function isSafeMethod(method: string): boolean {
  return SAFE_METHODS.has(method);
}

/**
 * Works out who is calling; a request without credentials carries on anonymous. A deployment's token is good for
 * /serve/<name>/... only, which is answered before this server: here it is refused whatever the route.
 */
export function authenticate(credentials: Credentials): MiddlewareHandler<AppEnv> {
  return async function authenticate(c, next) {
    const principal = await credentials.identify(
      { authorization: c.req.header('Authorization'), sessionCookie: getCookie(c, SESSION_COOKIE) },
      { ip: c.get('clientIp'), userAgent: c.req.header('User-Agent') ?? '' },
    );
    const deployment = principal?.deploymentScope?.name;
    if (deployment !== undefined) throw forbidden(`this token is scoped to deployment "${deployment}": it may only call /serve/${deployment}/...`);
    c.set('principal', principal);
    await next();
  };
}

/**
 * Everything mounted after this needs a credential: API callers get 401, browsers go to the login page.
 * Read-only tokens may only read.
 */
export function requireCredential(): MiddlewareHandler<AppEnv> {
  return async function requireCredential(c, next) {
    const principal = c.get('principal');
    if (!principal) {
      if (wantsJson(c)) {
        throw new HttpError(401, 'UNAUTHENTICATED', 'authentication required: send a Bearer token or Basic credentials', {
          'WWW-Authenticate': 'Bearer realm="trainyard"',
        });
      }
      const next = encodeURIComponent(c.req.path + (new URL(c.req.url).search || ''));
      if (isHtmx(c)) {
        c.header('HX-Redirect', `/login?next=${next}`);
        return c.body(null, 401);
      }
      return c.redirect(`/login?next=${next}`, 302);
    }
    if (principal.scope === 'read' && !isSafeMethod(c.req.method)) throw forbidden('this token is read-only');
    await next();
  };
}
