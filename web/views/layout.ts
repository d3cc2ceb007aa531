import { alertBadgeSlot } from './alert-badge.ts';
import { html, raw, type Html } from './html.ts';

export interface AssetUrls {
  css: string;
  js: string;
  htmx: string;
  htmxWs: string;
  favicon: string;
}

export interface Viewer {
  username: string;
  displayName: string;
  isAdmin: boolean;
  csrfToken: string;
}

export type Section = 'overview' | 'projects' | 'experiments' | 'models' | 'jobs' | 'deployments' | 'gpus' | 'host' | 'alerts' | 'usage' | 'settings' | 'admin';

export interface LayoutProps {
  title: string;
  section: Section;
  viewer: Viewer;
  assets: AssetUrls;
  /** Live feeds this page listens to over the WebSocket channel. */
  live?: string[];
  /** Extra stylesheets and scripts (by URL) that only this page needs, such as the chart library. */
  styles?: string[];
  scripts?: string[];
}

const AREAS: Array<{ key: Section; label: string; href: string; admin?: boolean }> = [
  { key: 'overview', label: 'Overview', href: '/' },
  { key: 'projects', label: 'Projects', href: '/projects' },
  { key: 'experiments', label: 'Experiments', href: '/experiments' },
  { key: 'models', label: 'Models', href: '/models' },
  { key: 'jobs', label: 'Jobs', href: '/jobs' },
  { key: 'deployments', label: 'Deployments', href: '/deployments' },
  { key: 'gpus', label: 'GPUs', href: '/gpus' },
  { key: 'host', label: 'Host', href: '/host' },
  { key: 'usage', label: 'Usage', href: '/usage' },
];

function head(title: string, assets: AssetUrls, extras: Pick<LayoutProps, 'styles' | 'scripts'> = {}): Html {
  return html`<meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>${title} · Trainyard</title>
    <link rel="icon" href="${assets.favicon}" type="image/svg+xml">
    <link rel="stylesheet" href="${assets.css}">
    <script src="${assets.htmx}" defer></script>
    <script src="${assets.htmxWs}" defer></script>
    <script src="${assets.js}" defer></script>
    ${(extras.styles ?? []).map((href) => html`<link rel="stylesheet" href="${href}">`)}
    ${(extras.scripts ?? []).map((src) => html`<script src="${src}" defer></script>`)}`;
}

export function layout(props: LayoutProps, content: Html): Html {
  const { viewer, section, assets } = props;
  const csrfHeaders = JSON.stringify({ 'X-CSRF-Token': viewer.csrfToken });
  const feeds = props.live ?? [];
  // Every page listens, if only for the nav's count of open alerts, which every socket carries.
  const liveUrl = feeds.length ? `/live?feeds=${feeds.join(',')}` : '/live';
  return html`<!doctype html>
<html lang="en">
<head>${head(props.title, assets, props)}</head>
<body hx-headers:inherited="${csrfHeaders}">
  <header class="topbar">
    <a class="brand" href="/">${raw(TRACKS_ICON)} Trainyard</a>
    <nav class="nav">
      ${AREAS.map((area) => html`<a href="${area.href}" class="${area.key === section ? 'active' : ''}">${area.label}</a>`)}
      <a href="/alerts" class="${section === 'alerts' ? 'active' : ''}">Alerts ${alertBadgeSlot()}</a>
      <a href="/settings/tokens" class="${section === 'settings' ? 'active' : ''}">Settings</a>
      ${viewer.isAdmin ? html`<a href="/admin/users" class="${section === 'admin' ? 'active' : ''}">Admin</a>` : ''}
    </nav>
    <div class="who">
      ${feeds.length ? html`<span class="live-dot" id="live-dot" title="Live updates"></span>` : ''}
      <span title="${viewer.displayName}">${viewer.username}</span>
      <form method="post" action="/logout"><input type="hidden" name="_csrf" value="${viewer.csrfToken}"><button type="submit">Sign out</button></form>
    </div>
  </header>
  <main class="page" hx-ws:connect="${liveUrl}">
    <div id="flash"></div>
    ${content}
  </main>
</body>
</html>`;
}

/** A page with no signed-in user: the login page and errors met before signing in. */
export function bareLayout(title: string, assets: AssetUrls, content: Html): Html {
  return html`<!doctype html>
<html lang="en">
<head>${head(title, assets)}</head>
<body>${content}</body>
</html>`;
}

const TRACKS_ICON =
  '<svg width="18" height="18" viewBox="0 0 32 32" aria-hidden="true"><path d="M6 22h20M6 10h20M10 6v20M22 6v20" stroke="#3e82f7" stroke-width="3" stroke-linecap="round"/></svg>';

export function flash(kind: 'ok' | 'error', message: string): Html {
  return html`<div class="flash ${kind}" role="${kind === 'error' ? 'alert' : 'status'}">${message}</div>`;
}
