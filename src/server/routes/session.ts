import { Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { App } from '../../app.ts';
import { HttpError } from '../../lib/errors.ts';
import { loginPage } from '../../../web/views/login-page.ts';
import { principalOf, type AppContext, type AppEnv } from '../context.ts';
import type { Assets } from '../assets.ts';
import { SESSION_COOKIE } from '../middleware/authenticate.ts';
import { readForm } from '../request-body.ts';

/** Only same-site paths: `next=//evil.example` or `next=https://...` would send the user elsewhere. */
export function safeNext(next: string | undefined): string {
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/';
}

function secureCookies(c: AppContext, app: App): boolean {
  const { secureCookies: mode, trustProxy, publicUrl } = app.config;
  if (mode !== 'auto') return mode === 'always';
  const forwardedProto = trustProxy ? c.req.header('X-Forwarded-Proto') : undefined;
  return new URL(c.req.url).protocol === 'https:' || forwardedProto === 'https' || !!publicUrl?.startsWith('https:');
}

/** A login form posted from another site is refused, so nobody can sign a victim into an attacker's account. */
function assertSameOrigin(c: AppContext): void {
  const origin = c.req.header('Origin');
  if (origin && origin !== 'null' && new URL(origin).host !== (c.req.header('Host') ?? new URL(c.req.url).host)) {
    throw new HttpError(403, 'CROSS_SITE_REQUEST', 'sign-in requests must come from this site');
  }
}

export function sessionRoutes(app: App, assets: Assets) {
  const routes = new Hono<AppEnv>();

  routes.get('/login', (c) => {
    const next = safeNext(c.req.query('next'));
    if (c.get('principal')) return c.redirect(next, 302);
    return c.html(loginPage({ assets: assets.urls, next }));
  });

  routes.post('/login', async (c) => {
    assertSameOrigin(c);
    const form = await readForm(c);
    const username = (form.username ?? '').trim();
    const next = safeNext(form.next);
    try {
      const { cookieValue } = await app.credentials.signIn(username, form.password ?? '', {
        ip: c.get('clientIp'),
        userAgent: c.req.header('User-Agent') ?? '',
      });
      setCookie(c, SESSION_COOKIE, cookieValue, {
        httpOnly: true,
        sameSite: 'Lax',
        secure: secureCookies(c, app),
        path: '/',
        maxAge: Math.floor(app.config.sessionTtlMs / 1000),
      });
      return c.redirect(next, 303);
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
      return c.html(loginPage({ assets: assets.urls, next, username, error: error.message }), error.status);
    }
  });

  return routes;
}

/** Signing out needs a session (and so its CSRF token): it is mounted behind the credential check. */
export function signOutRoutes(app: App) {
  return new Hono<AppEnv>().post('/logout', (c) => {
    const cookie = getCookie(c, SESSION_COOKIE);
    if (cookie) app.credentials.signOut(cookie, principalOf(c), { ip: c.get('clientIp'), userAgent: '' });
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.redirect('/login', 303);
  });
}
