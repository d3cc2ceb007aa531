import type { MiddlewareHandler } from 'hono';
import { HttpError } from '../../lib/errors.ts';
import { safeEqual } from '../../lib/secrets.ts';
import type { AppEnv } from '../context.ts';
import { isSafeMethod } from './authenticate.ts';

const FORM_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data'];

/**
 * A browser sends the session cookie on its own, so every state-changing request that rides on a session
 * must also carry the session's CSRF token: htmx sends it as a header, plain forms as the `_csrf` field.
 * Token and Basic callers send their credential explicitly and need no such proof.
 */
export function csrfProtection(): MiddlewareHandler<AppEnv> {
  return async function csrfProtection(c, next) {
    const principal = c.get('principal');
    if (principal?.via === 'session' && !isSafeMethod(c.req.method)) {
      let presented = c.req.header('X-CSRF-Token');
      const type = c.req.header('Content-Type')?.toLowerCase() ?? '';
      if (!presented && FORM_TYPES.some((form) => type.startsWith(form))) {
        const field = (await c.req.parseBody())._csrf;
        if (typeof field === 'string') presented = field;
      }
      if (!presented || !principal.csrfToken || !safeEqual(presented, principal.csrfToken)) {
        throw new HttpError(403, 'CSRF_TOKEN_INVALID', 'the form is missing its security token or it is stale: reload the page and try again');
      }
    }
    await next();
  };
}
