import type { HttpBindings } from '@hono/node-server';
import { Hono } from 'hono';
import { Readable } from 'node:stream';
import { z } from 'zod';
import type { App } from '../../app.ts';
import type { ArtifactEntry, ArtifactFile } from '../../artifacts/artifact-store.ts';
import { contentTypeOf } from '../../artifacts/content-type.ts';
import { createExperimentAccess } from '../../artifacts/experiment-access.ts';
import { artifactPathSegments } from '../../artifacts/safe-path.ts';
import { invalidParameterValue } from '../../lib/errors.ts';
import type { Role } from '../../auth/projects.ts';
import { principalOf, type AppContext, type AppEnv } from '../context.ts';
import { readJson } from '../request-body.ts';

const UPLOAD_PATH = /^\/(?:ajax-)?api\/2\.0\/mlflow-artifacts\/artifacts\//;

/** Artifact uploads stream to disk and may be many GB: the server's body limit must neither buffer nor refuse them. */
export function isArtifactUpload(method: string, path: string): boolean {
  return method === 'PUT' && UPLOAD_PATH.test(path);
}

/**
 * mlflow.exceptions._UnsupportedMultipartUploadException.MESSAGE, which MLflow's proxy answers when its store (a
 * local folder, as here) has no multipart uploads. The client falls back to one streamed PUT only when the message
 * starts with exactly this text.
 */
export const MULTIPART_UNSUPPORTED = 'Multipart upload is not supported for the current artifact repository';

const multipartBodies = {
  create: z.object({ path: z.string().min(1), num_parts: z.union([z.int().min(1), z.string().regex(/^\d+$/)]).optional() }),
  complete: z.object({ path: z.string().min(1), upload_id: z.string().optional(), parts: z.array(z.unknown()) }),
  abort: z.object({ path: z.string().min(1), upload_id: z.string().optional() }),
};

export function entryJson(entry: ArtifactEntry, path = entry.name) {
  return entry.isDir ? { path, is_dir: true } : { path, is_dir: false, file_size: entry.size };
}

/**
 * The request body as bytes. Under @hono/node-server that is the Node request itself: read directly, it streams
 * about three times faster than through the web stream the Request wraps around it. In-process there is only that.
 */
function bodyOf(c: AppContext): AsyncIterable<Uint8Array> | Iterable<Uint8Array> {
  return (c.env as Partial<HttpBindings> | undefined)?.incoming ?? c.req.raw.body ?? [];
}

/** The artifact path: what follows `/mlflow-artifacts/<route>/` in the request path, as the router decoded it. */
function pathAfter(c: AppContext, route: string): string {
  const marker = `/mlflow-artifacts/${route}/`;
  const path = c.req.path;
  return path.slice(path.indexOf(marker) + marker.length);
}

/** RFC 6266: a plain ASCII name for old clients, the exact UTF-8 name for the rest. */
function attachment(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/** A file streamed out as MLflow sends artifacts: always as an attachment, so a browser never renders it here. */
export function fileResponse(c: AppContext, file: ArtifactFile, name: string): Response {
  // Node's default bridge holds one chunk and stalls the file stream between chunks; a few in flight keep it reading.
  const body = Readable.toWeb(file.stream, { strategy: new CountQueuingStrategy({ highWaterMark: 4 }) }) as ReadableStream;
  return c.body(body, 200, {
    'Content-Type': contentTypeOf(name),
    'Content-Length': String(file.size),
    'Content-Disposition': attachment(name),
    'X-Content-Type-Options': 'nosniff',
  });
}

/**
 * MLflow's artifact proxy (mlflow_artifacts.proto): `/artifacts/<path>` maps 1:1 onto the store, where the first
 * segment is the experiment id, so the caller's role in that experiment's project decides (viewer reads, editor
 * writes). Mounted under /api/2.0/mlflow-artifacts and /ajax-api/2.0/mlflow-artifacts.
 */
export function artifactRoutes(app: App) {
  const routes = new Hono<AppEnv>();
  const store = app.artifacts;
  const access = createExperimentAccess(app);

  /** The validated path, after the role check on the experiment it belongs to. */
  const authorizedPath = (c: AppContext, path: string, role: Role): string[] => {
    const segments = artifactPathSegments(path);
    access.experiment(principalOf(c).user, segments[0]!, role);
    return segments;
  };

  routes.get('/artifacts', async (c) => {
    const path = (c.req.query('path') ?? '').replace(/\/+$/, '');
    const { user } = principalOf(c);
    if (path !== '') authorizedPath(c, path, 'viewer');
    const entries = await store.list(path);
    const visible = path === '' ? entries.filter((entry) => entry.isDir && access.canView(user, entry.name)) : entries;
    return c.json(visible.length > 0 ? { files: visible.map((entry) => entryJson(entry)) } : {});
  });

  routes.get('/artifacts/*', async (c) => {
    const path = pathAfter(c, 'artifacts');
    const segments = authorizedPath(c, path, 'viewer');
    return fileResponse(c, await store.read(path), segments.at(-1)!);
  });

  routes.put('/artifacts/*', async (c) => {
    const path = pathAfter(c, 'artifacts');
    authorizedPath(c, path, 'editor');
    const declared = c.req.header('Content-Length');
    const expectedBytes = declared !== undefined && /^\d+$/.test(declared) ? Number(declared) : undefined;
    await store.write(path, bodyOf(c), expectedBytes);
    return c.json({});
  });

  routes.delete('/artifacts/*', async (c) => {
    const path = pathAfter(c, 'artifacts');
    const segments = authorizedPath(c, path, 'editor');
    if (segments.length < 2) throw invalidParameterValue(`Refusing to delete the whole artifact folder of experiment ${segments[0]}`);
    await store.remove(path);
    return c.json({});
  });

  for (const action of ['create', 'complete', 'abort'] as const) {
    routes.post(`/mpu/${action}/*`, async (c) => {
      authorizedPath(c, pathAfter(c, `mpu/${action}`), 'editor');
      await readJson(c, multipartBodies[action]);
      return c.json({ error_code: 'NOT_IMPLEMENTED', message: MULTIPART_UNSUPPORTED }, 501);
    });
  }

  return routes;
}
