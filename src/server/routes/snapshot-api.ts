import type { HttpBindings } from '@hono/node-server';
import { Hono } from 'hono';
import type { App } from '../../app.ts';
import { HttpError } from '../../lib/errors.ts';
import { principalOf, type AppContext, type AppEnv } from '../context.ts';

const GZIP_TYPES = ['application/gzip', 'application/x-gzip'];

/** Snapshot uploads stream to disk up to their own limit: the server's body limit must neither buffer nor refuse them. */
export function isSnapshotUpload(method: string, path: string): boolean {
  return method === 'POST' && path === '/api/v1/snapshots';
}

/** Under @hono/node-server the Node request itself (the fastest way to read it); in-process, the Request's stream. */
function bodyOf(c: AppContext): AsyncIterable<Uint8Array> {
  return (c.env as Partial<HttpBindings> | undefined)?.incoming ?? c.req.raw.body ?? (async function* () {})();
}

function declaredLength(c: AppContext): number | undefined {
  const declared = c.req.header('Content-Length');
  return declared !== undefined && /^\d{1,15}$/.test(declared) ? Number(declared) : undefined;
}

/** Code snapshots for jobs: `yard run` uploads the working folder as a tar.gz and names the answer's id in its job. */
export function snapshotApi(app: App) {
  const api = new Hono<AppEnv>();

  api.get('/snapshots/limits', (c) => c.json(app.snapshots.limits));

  api.post('/snapshots', async (c) => {
    const { user } = principalOf(c);
    const type = (c.req.header('Content-Type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (!GZIP_TYPES.includes(type)) throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'send the snapshot as a tar.gz with Content-Type: application/gzip');
    const snapshot = await app.snapshots.create(user, bodyOf(c), declaredLength(c));
    return c.json(snapshot, 201);
  });

  return api;
}
