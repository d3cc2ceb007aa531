import { Hono } from 'hono';
import type { AppEnv } from '../context.ts';
import type { Assets } from '../assets.ts';
import { notFound } from '../../lib/errors.ts';

export function staticRoutes(assets: Assets) {
  return new Hono<AppEnv>().get('/static/:hash/:name', (c) => {
    const asset = assets.get(c.req.param('name'));
    if (!asset) throw notFound(`no static file ${c.req.param('name')}`);
    const current = asset.hash === c.req.param('hash');
    c.header('Content-Type', asset.type);
    c.header('ETag', `"${asset.hash}"`);
    // An old hash still gets the file (a page open across an upgrade), but must not be cached as that version.
    c.header('Cache-Control', current ? 'public, max-age=31536000, immutable' : 'no-cache');
    if (c.req.header('If-None-Match') === `"${asset.hash}"`) return c.body(null, 304);
    return c.body(new Uint8Array(asset.body));
  });
}
