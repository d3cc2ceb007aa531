import { Hono } from 'hono';
import type { App } from '../../app.ts';
import { alertJsonWriter } from '../../alerts/alert-json.ts';
import type { UserRecord } from '../../auth/user-queries.ts';
import { alertsPage, type AlertBoard } from '../../../web/views/alerts-page.ts';
import type { Assets } from '../assets.ts';
import { principalOf, type AppEnv } from '../context.ts';
import { pageProps } from '../page-props.ts';

/** Resolved alerts the page shows below the open ones. */
const HISTORY_SHOWN = 50;
/** Open alerts beyond this many are not listed (the badge still counts them). */
const OPEN_SHOWN = 500;

/** The open alerts `user` may see and the latest resolved ones: the page's first render and each live update. */
export function alertBoardFor(app: App, user: UserRecord): AlertBoard {
  const write = alertJsonWriter(app.projects, user);
  return {
    open: app.alerts.list(user, { state: 'open', limit: OPEN_SHOWN }).map(write),
    history: app.alerts.list(user, { state: 'resolved', limit: HISTORY_SHOWN }).map(write),
    now: app.now(),
  };
}

/** The alerts page: open ones first, then recent history, kept current by the `alerts` live feed. */
export function alertPages(app: App, assets: Assets) {
  return new Hono<AppEnv>().get('/alerts', (c) =>
    c.html(alertsPage({ ...pageProps(c, assets, 'alerts', 'Alerts', ['alerts']), board: alertBoardFor(app, principalOf(c).user) })),
  );
}
