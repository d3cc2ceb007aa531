import type { MiddlewareHandler } from 'hono';
import { bodyLimit as honoBodyLimit } from 'hono/body-limit';

/**
 * Hono's bodyLimit, less its first question, whether the request has a body at all: on @hono/node-server asking
 * builds a web stream over the socket for every request, and a handler then reads the body through that stream
 * instead of straight from Node's request. A body that declares a length within the limit passes on the header
 * alone, as it does in Hono's (Node's HTTP parser holds the body to it); everything else goes to Hono's.
 */
export function bodyLimit(options: Parameters<typeof honoBodyLimit>[0]): MiddlewareHandler {
  const limit = honoBodyLimit(options);
  return async function bodyLimit(c, next) {
    const length = c.req.header('Content-Length');
    if (length !== undefined && c.req.header('Transfer-Encoding') === undefined && parseInt(length, 10) <= options.maxSize) return next();
    return limit(c, next);
  };
}
