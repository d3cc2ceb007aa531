import type { MiddlewareHandler } from 'hono';
import type { Log } from '../../lib/log.ts';
import type { AppEnv } from '../context.ts';

const QUIET_PREFIXES = ['/health', '/static/'];

/** One structured line per request; health checks and static files only at debug level. */
export function requestLog(log: Log): MiddlewareHandler<AppEnv> {
  return async function requestLog(c, next) {
    const started = performance.now();
    await next();
    const path = c.req.path;
    const quiet = QUIET_PREFIXES.some((prefix) => path.startsWith(prefix));
    const level = c.res.status >= 500 ? 'error' : quiet ? 'debug' : 'info';
    log[level]({
      method: c.req.method,
      path,
      status: c.res.status,
      ms: Math.round((performance.now() - started) * 10) / 10,
      user: c.get('principal')?.user.username,
      ip: c.get('clientIp'),
    }, 'request');
  };
}
