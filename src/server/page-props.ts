import type { Context } from 'hono';
import type { LayoutProps, Section } from '../../web/views/layout.ts';
import type { Html } from '../../web/views/html.ts';
import type { App } from '../app.ts';
import { isHtmx, principalOf, type AppContext } from './context.ts';
import type { Assets } from './assets.ts';

/** The layout's view-model for the signed-in caller. */
export function pageProps(c: AppContext, assets: Assets, section: Section, title: string, live?: string[]): LayoutProps {
  const { user, csrfToken = '' } = principalOf(c);
  return {
    title,
    section,
    assets: assets.urls,
    viewer: { username: user.username, displayName: user.displayName, isAdmin: user.isAdmin, csrfToken },
    ...(live && { live }),
  };
}

/** The URL people should use to reach this server, for the snippets the pages show. */
export function serverUrl(c: Context, app: App): string {
  return app.config.publicUrl ?? new URL(c.req.url).origin;
}

/** htmx asked for the fragment it will swap; a plain form post gets the whole page. */
export function fragmentOrPage(c: Context, fragment: () => Html, page: () => Html) {
  return c.html(isHtmx(c) ? fragment() : page());
}
