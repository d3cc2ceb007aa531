import { Hono } from 'hono';
import type { App } from '../../app.ts';
import { invalidParameterValue } from '../../lib/errors.ts';
import { principalOf, type AppEnv } from '../context.ts';

/** Chart data for the dashboard: one metric of a run, downsampled on the server. */
export function metricSeriesApi(app: App) {
  const routes = new Hono<AppEnv>();

  routes.get('/runs/:id/metrics/:key/series', (c) => {
    const raw = c.req.query('points');
    if (raw !== undefined && !/^\d{1,9}$/.test(raw)) throw invalidParameterValue(`points must be an integer, got '${raw}'`);
    const caller = { user: principalOf(c).user, ip: c.get('clientIp') };
    return c.json(app.tracking.metrics.series(caller, c.req.param('id'), c.req.param('key'), raw === undefined ? undefined : Number(raw)));
  });

  return routes;
}
