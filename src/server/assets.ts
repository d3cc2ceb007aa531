import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { AssetUrls } from '../../web/views/layout.ts';

export interface Asset {
  body: Buffer;
  type: string;
  hash: string;
}

const require = createRequire(import.meta.url);
const webStatic = (name: string) => fileURLToPath(new URL(`../../web/static/${name}`, import.meta.url));

/** The dashboard's static files: our own from web/static, vendored libraries straight from their npm packages. */
const SOURCES: Record<string, { path: string; type: string }> = {
  'app.css': { path: webStatic('app.css'), type: 'text/css; charset=utf-8' },
  'app.js': { path: webStatic('app.js'), type: 'text/javascript; charset=utf-8' },
  'charts.js': { path: webStatic('charts.js'), type: 'text/javascript; charset=utf-8' },
  'favicon.svg': { path: webStatic('favicon.svg'), type: 'image/svg+xml' },
  'htmx.min.js': { path: require.resolve('htmx.org/dist/htmx.min.js'), type: 'text/javascript; charset=utf-8' },
  'hx-ws.min.js': { path: require.resolve('htmx.org/dist/ext/hx-ws.min.js'), type: 'text/javascript; charset=utf-8' },
  'uplot.min.js': { path: require.resolve('uplot/dist/uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
  'uplot.min.css': { path: require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css; charset=utf-8' },
};

export interface Assets {
  get(name: string): Asset | undefined;
  /** `/static/<content hash>/<name>`: the hash changes with the content, so browsers may cache forever. */
  url(name: string): string;
  urls: AssetUrls;
}

export function loadAssets(): Assets {
  const assets = new Map<string, Asset>();
  for (const [name, { path, type }] of Object.entries(SOURCES)) {
    const body = readFileSync(path);
    assets.set(name, { body, type, hash: createHash('sha256').update(body).digest('hex').slice(0, 12) });
  }
  const url = (name: string) => `/static/${assets.get(name)!.hash}/${name}`;
  return {
    get: (name) => assets.get(name),
    url,
    urls: { css: url('app.css'), js: url('app.js'), htmx: url('htmx.min.js'), htmxWs: url('hx-ws.min.js'), favicon: url('favicon.svg') },
  };
}
