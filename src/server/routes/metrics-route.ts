import { BlockList, isIP } from 'node:net';
import { Hono, type MiddlewareHandler } from 'hono';
import type { App } from '../../app.ts';
import type { AddressRange } from '../../config.ts';
import type { AppMetrics } from '../../monitoring/app-metrics.ts';
import type { AppEnv } from '../context.ts';
import { requireCredential } from '../middleware/authenticate.ts';
import { runScope } from '../middleware/run-scope.ts';

/** Whether an address lies in one of the ranges of `metricsAllowFrom`. */
function addressMatcher(ranges: readonly AddressRange[]): (address: string) => boolean {
  const allowed = new BlockList();
  for (const { address, prefix, family } of ranges) allowed.addSubnet(address, prefix, family);
  return (address) => {
    const version = isIP(address);
    return version !== 0 && allowed.check(address, version === 4 ? 'ipv4' : 'ipv6');
  };
}

/**
 * GET /metrics in Prometheus' text format, for a caller with a credential like any route, or without one from an
 * address range of `metricsAllowFrom` (a Prometheus server that sends no token). Mounted after `authenticate`.
 */
export function metricsRoutes(app: App, metrics: AppMetrics) {
  const isAllowed = addressMatcher(app.config.metricsAllowFrom);
  const credentialRequired = requireCredential();
  const confineRunTokens = runScope(app);
  const scrapeAccess: MiddlewareHandler<AppEnv> = async (c, next) => {
    if (!c.get('principal') && isAllowed(c.get('clientIp'))) return next();
    return credentialRequired(c, async () => {
      await confineRunTokens(c, next);
    });
  };

  return new Hono<AppEnv>().get('/metrics', scrapeAccess, async (c) => c.body(await metrics.render(), 200, { 'Content-Type': metrics.contentType }));
}
