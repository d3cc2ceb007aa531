import { createHash } from 'node:crypto';
import { readPackageFile } from '../lib/package-files.ts';
import type { AssetUrls } from '../../web/views/layout.ts';

export interface Asset {
  body: Buffer;
  type: string;
  hash: string;
}

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

/** The dashboard's static files: our own from web/static, vendored libraries straight from their npm packages. */
const SOURCES: Record<string, { file: string; type: string }> = {
  'app.css': { file: 'web/static/app.css', type: CSS },
  'app.js': { file: 'web/static/app.js', type: JS },
  'charts.js': { file: 'web/static/charts.js', type: JS },
  'resource-charts.js': { file: 'web/static/resource-charts.js', type: JS },
  'favicon.svg': { file: 'web/static/favicon.svg', type: 'image/svg+xml' },
  'htmx.min.js': { file: 'node_modules/htmx.org/dist/htmx.min.js', type: JS },
  'hx-ws.min.js': { file: 'node_modules/htmx.org/dist/ext/hx-ws.min.js', type: JS },
  'uplot.min.js': { file: 'node_modules/uplot/dist/uPlot.iife.min.js', type: JS },
  'uplot.min.css': { file: 'node_modules/uplot/dist/uPlot.min.css', type: CSS },
};

/** The package files behind the static assets (the binary embeds exactly these). */
export const STATIC_FILES: readonly string[] = Object.values(SOURCES).map((source) => source.file);

export interface Assets {
  get(name: string): Asset | undefined;
  /** `/static/<content hash>/<name>`: the hash changes with the content, so browsers may cache forever. */
  url(name: string): string;
  urls: AssetUrls;
}

export function loadAssets(): Assets {
  const assets = new Map<string, Asset>();
  for (const [name, { file, type }] of Object.entries(SOURCES)) {
    const body = readPackageFile(file);
    assets.set(name, { body, type, hash: createHash('sha256').update(body).digest('hex').slice(0, 12) });
  }
  const url = (name: string) => `/static/${assets.get(name)!.hash}/${name}`;
  return {
    get: (name) => assets.get(name),
    url,
    urls: { css: url('app.css'), js: url('app.js'), htmx: url('htmx.min.js'), htmxWs: url('hx-ws.min.js'), favicon: url('favicon.svg') },
  };
}
