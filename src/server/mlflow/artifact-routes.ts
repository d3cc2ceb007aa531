import type { HttpBindings } from '@hono/node-server';
import { Hono } from 'hono';
import { Readable } from 'node:stream';
import { z } from 'zod';
import type { App } from '../../app.ts';
import type { ArtifactEntry, ArtifactFile } from '../../artifacts/artifact-store.ts';
import { contentTypeOf } from '../../artifacts/content-type.ts';
import { createExperimentAccess } from '../../artifacts/experiment-access.ts';
import { artifactPathSegments } from '../../artifacts/safe-path.ts';
import type { PartGrant } from '../../artifacts/upload-signature.ts';
import { invalidParameterValue } from '../../lib/errors.ts';
import type { Role } from '../../auth/projects.ts';
import { principalOf, type AppContext, type AppEnv } from '../context.ts';
import { readJson } from '../request-body.ts';

/** Where part URLs point: public, for the signature in the URL is the credential, as with S3's pre-signed URLs. */
export const MULTIPART_PART_ROUTE = '/api/2.0/mlflow-artifacts/mpu/part/:uploadId/:partNumber';

const UPLOAD_PATH = /^\/(?:ajax-)?api\/2\.0\/mlflow-artifacts\/artifacts\/|^\/api\/2\.0\/mlflow-artifacts\/mpu\/part\//;

/** Artifact uploads and parts stream to disk and may be many GB: the server's body limit must neither buffer nor refuse them. */
export function isArtifactUpload(method: string, path: string): boolean {
  return method === 'PUT' && UPLOAD_PATH.test(path);
}

/** MLflow sends int64 fields as numbers or, as protobuf's JSON allows, as strings of digits. */
const intLike = z.union([z.int(), z.string().regex(/^-?\d{1,15}$/).transform(Number)]);

const multipartBodies = {
  create: z.object({ path: z.string().min(1), num_parts: intLike }),
  complete: z.object({
    path: z.string().min(1),
    upload_id: z.string().min(1),
    parts: z.array(z.object({ part_number: intLike, etag: z.string() })),
  }),
  abort: z.object({ path: z.string().min(1), upload_id: z.string().min(1) }),
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

/** The request's Content-Length, which tells a complete body from a truncated one. */
function declaredLength(c: AppContext): number | undefined {
  const declared = c.req.header('Content-Length');
  return declared !== undefined && /^\d+$/.test(declared) ? Number(declared) : undefined;
}

/** The artifact path: what follows `/mlflow-artifacts/<route>/` in the request path, as the router decoded it. */
function pathAfter(c: AppContext, route: string): string {
  const marker = `/mlflow-artifacts/${route}/`;
  const path = c.req.path;
  return path.slice(path.indexOf(marker) + marker.length);
}

/**
 * The address clients reach this server at: the configured public URL, else the request's own origin, where a
 * trusted proxy (TRAINYARD_TRUST_PROXY, the rule the session cookie's Secure flag follows) may say the scheme and host.
 */
function originOf(c: AppContext, config: App['config']): string {
  if (config.publicUrl) return config.publicUrl.replace(/\/+$/, '');
  const url = new URL(c.req.url);
  if (config.trustProxy) {
    const proto = c.req.header('X-Forwarded-Proto')?.split(',')[0]?.trim();
    const host = c.req.header('X-Forwarded-Host')?.split(',')[0]?.trim();
    if (proto === 'http' || proto === 'https') url.protocol = proto;
    if (host) url.host = host;
  }
  return url.origin;
}

function partUrl(origin: string, grant: PartGrant, signature: string): string {
  const path = MULTIPART_PART_ROUTE.replace(':uploadId', grant.uploadId).replace(':partNumber', grant.partNumber);
  return `${origin}${path}?${new URLSearchParams({ expires: grant.expiresAt, signature })}`;
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
    await store.write(path, bodyOf(c), declaredLength(c));
    return c.json({});
  });

  routes.delete('/artifacts/*', async (c) => {
    const path = pathAfter(c, 'artifacts');
    const segments = authorizedPath(c, path, 'editor');
    if (segments.length < 2) throw invalidParameterValue(`Refusing to delete the whole artifact folder of experiment ${segments[0]}`);
    await store.remove(path);
    return c.json({});
  });

  // Multipart upload: the URL names the artifact folder, `path` the client's local file, whose name the artifact keeps.
  const multipartFolder = (c: AppContext, action: string): string => {
    const folder = pathAfter(c, `mpu/${action}`);
    authorizedPath(c, folder, 'editor');
    return folder;
  };
  const targetIn = (folder: string, localFile: string) => `${folder}/${localFile.split(/[\\/]/).at(-1)}`;

  routes.post('/mpu/create/*', async (c) => {
    const folder = multipartFolder(c, 'create');
    const body = await readJson(c, multipartBodies.create);
    const upload = await store.multipart.create(targetIn(folder, body.path), body.num_parts, principalOf(c).user.username);
    const origin = originOf(c, app.config);
    return c.json({
      upload_id: upload.uploadId,
      credentials: upload.parts.map(({ grant, signature }) => ({ url: partUrl(origin, grant, signature), part_number: Number(grant.partNumber), headers: {} })),
    });
  });

  routes.post('/mpu/complete/*', async (c) => {
    const folder = multipartFolder(c, 'complete');
    const body = await readJson(c, multipartBodies.complete);
    const parts = body.parts.map((part) => ({ partNumber: part.part_number, etag: part.etag }));
    await store.multipart.complete(targetIn(folder, body.path), body.upload_id, parts);
    return c.json({});
  });

  routes.post('/mpu/abort/*', async (c) => {
    const folder = multipartFolder(c, 'abort');
    const body = await readJson(c, multipartBodies.abort);
    await store.multipart.abort(targetIn(folder, body.path), body.upload_id);
    return c.json({});
  });

  return routes;
}

/**
 * Where the client PUTs each part (MLflow's `_upload_part`: a plain `requests.put` without the tracking
 * credentials, reading the ETag it answers). Mounted before the credential check: the signature is the credential.
 */
export function multipartPartRoutes(app: App) {
  const routes = new Hono<AppEnv>();
  routes.put(MULTIPART_PART_ROUTE, async (c) => {
    const grant = { uploadId: c.req.param('uploadId'), partNumber: c.req.param('partNumber'), expiresAt: c.req.query('expires') ?? '' };
    const etag = await app.artifacts.multipart.writePart(grant, c.req.query('signature') ?? '', bodyOf(c), declaredLength(c));
    return c.body(null, 200, { ETag: etag });
  });
  return routes;
}
