import { Hono } from 'hono';
import type { App } from '../../app.ts';
import { overviewPage } from '../../../web/views/overview-page.ts';
import { principalOf, type AppEnv } from '../context.ts';
import type { Assets } from '../assets.ts';
import { pageProps, serverUrl } from '../page-props.ts';

export function overviewRoutes(app: App, assets: Assets) {
  return new Hono<AppEnv>().get('/', (c) => {
    const { user } = principalOf(c);
    return c.html(
      overviewPage({
        ...pageProps(c, assets, 'overview', 'Overview', user.isAdmin ? ['audit'] : undefined),
        projects: app.projects.listFor(user),
        activity: user.isAdmin ? app.audit.list({ limit: 8 }) : [],
        serverUrl: serverUrl(c, app),
      }),
    );
  });
}
