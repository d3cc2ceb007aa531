import { Hono } from 'hono';
import type { App } from '../../app.ts';
import { usageQuerySchema } from '../../accounting/usage-query.ts';
import { usagePage } from '../../../web/views/usage-page.ts';
import type { Assets } from '../assets.ts';
import { principalOf, type AppEnv } from '../context.ts';
import { pageProps } from '../page-props.ts';
import { parseWith } from '../request-body.ts';

/** The usage page: the range form and a table per project, user or day; a field left empty takes its default. */
export function usagePages(app: App, assets: Assets) {
  return new Hono<AppEnv>().get('/usage', async (c) => {
    const fields = Object.fromEntries(Object.entries(c.req.query()).filter(([, value]) => value !== ''));
    const report = await app.accounting.usage(principalOf(c).user, parseWith(usageQuerySchema(app.now()), fields));
    return c.html(usagePage({ ...pageProps(c, assets, 'usage', 'Usage'), report }));
  });
}
