import type { MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { HttpServerMetrics } from '../../monitoring/http-server-metrics.ts';
import type { AppEnv } from '../context.ts';

/** The label of a request no route matched (a 404): one series for all of them, whatever their paths. */
export const UNMATCHED_ROUTE = 'unmatched';

/** Counts and times every request under the pattern of the route that answers it (`/api/v1/jobs/:id`), not its path. */
export function requestMetrics(metrics: HttpServerMetrics): MiddlewareHandler<AppEnv> {
  return async function requestMetrics(c, next) {
    const startedAt = performance.now();
    await next();
    const route = matchedRoutes(c).find((matched) => matched.method !== 'ALL')?.path ?? UNMATCHED_ROUTE;
    metrics.observe(c.req.method, route, c.res.status, (performance.now() - startedAt) / 1000);
  };
}
