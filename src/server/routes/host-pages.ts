import { Hono } from 'hono';
import type { App } from '../../app.ts';
import { hostPage } from '../../../web/views/host-page.ts';
import { seriesFeedName } from '../../../web/views/resource-chart.ts';
import type { Assets } from '../assets.ts';
import { principalOf, type AppEnv } from '../context.ts';
import { pageProps } from '../page-props.ts';
import { resourceChartAssets } from './monitoring-api.ts';

/**
 * The host page: for anyone signed in, as the GPU board is; its charts grow with the `series:host` feed. What the
 * sampler skipped names other projects' jobs, so only site admins read it here.
 */
export function hostPages(app: App, assets: Assets) {
  return new Hono<AppEnv>().get('/host', (c) => {
    const sample = app.monitoring.latest();
    const latest = sample && { at: sample.at, host: sample.host, skipped: principalOf(c).user.isAdmin ? sample.skipped : [] };
    return c.html(hostPage({ ...pageProps(c, assets, 'host', 'Host', [seriesFeedName({ kind: 'host' })]), ...resourceChartAssets(assets), view: { latest } }));
  });
}
