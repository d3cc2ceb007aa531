import type { IncomingMessage } from 'node:http';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../context.ts';

/** The caller's address: the socket's, or the first X-Forwarded-For hop when a trusted proxy sits in front. */
export function clientInfo(options: { trustProxy: boolean }): MiddlewareHandler<AppEnv> {
  return async function clientInfo(c, next) {
    const forwarded = options.trustProxy ? c.req.header('X-Forwarded-For')?.split(',')[0]?.trim() : undefined;
    const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
    c.set('clientIp', forwarded || incoming?.socket.remoteAddress || 'local');
    await next();
  };
}
