import { Hono } from 'hono';
import type { App } from '../../app.ts';
import { usageQuerySchema } from '../../accounting/usage-query.ts';
import { principalOf, type AppEnv } from '../context.ts';
import { parseWith } from '../request-body.ts';

/** GPU-, CPU- and memory-hours per project, user or day over a range of UTC days, as the caller may see them. */
export function usageApi(app: App) {
  return new Hono<AppEnv>().get('/usage', async (c) => {
    const query = parseWith(usageQuerySchema(app.now()), c.req.query());
    return c.json(await app.accounting.usage(principalOf(c).user, query));
  });
}
