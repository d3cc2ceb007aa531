import { Hono } from 'hono';
import { z } from 'zod';
import type { App } from '../../app.ts';
import { alertJsonWriter } from '../../alerts/alert-json.ts';
import { principalOf, type AppEnv } from '../context.ts';
import { parseWith } from '../request-body.ts';

const MAX_LIMIT = 1000;

const LIMIT_RANGE = `a number of alerts from 1 to ${MAX_LIMIT}`;

const listQuerySchema = z.object({
  state: z.enum(['open', 'resolved', 'all'], { error: 'use open, resolved or all' }).default('open'),
  limit: z.coerce.number({ error: LIMIT_RANGE }).int(LIMIT_RANGE).min(1, LIMIT_RANGE).max(MAX_LIMIT, LIMIT_RANGE).default(100),
});

/** The alerts the caller may see: open ones by default, open first then the latest with `state=all`. */
export function alertApi(app: App) {
  return new Hono<AppEnv>().get('/alerts', (c) => {
    const query = parseWith(listQuerySchema, c.req.query());
    const user = principalOf(c).user;
    return c.json({ alerts: app.alerts.list(user, query).map(alertJsonWriter(app.projects, user)) });
  });
}
