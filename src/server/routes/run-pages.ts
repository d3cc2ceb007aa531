import { Hono } from 'hono';
import type { App } from '../../app.ts';
import type { ArtifactFile } from '../../artifacts/artifact-store.ts';
import { contentTypeOf } from '../../artifacts/content-type.ts';
import { storePathOf } from '../../artifacts/experiment-access.ts';
import { artifactPathSegments } from '../../artifacts/safe-path.ts';
import { invalidParameterValue } from '../../lib/errors.ts';
import type { RunJson } from '../../tracking/run-json.ts';
import { artifactBrowser, artifactPreview, type ArtifactListing, type ArtifactPreview } from '../../../web/views/artifact-browser.ts';
import { runPage } from '../../../web/views/run-page.ts';
import type { Assets } from '../assets.ts';
import { isHtmx, principalOf, type AppContext, type AppEnv } from '../context.ts';
import { fileResponse } from '../mlflow/artifact-routes.ts';
import { fragmentOrPage, pageProps } from '../page-props.ts';

/** Text files show this much in the page; the rest is a download away. */
const PREVIEW_BYTES = 256 * 1024;
/** Images a browser may show straight from the raw route. SVG is not one: it can carry scripts, so it always downloads. */
const INLINE_IMAGES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);
/** An <img> never runs an SVG's scripts, so the preview shows SVG too. */
const PREVIEW_IMAGES = new Set([...INLINE_IMAGES, 'image/svg+xml']);
const OUR_ARTIFACTS = 'mlflow-artifacts:';

const parentOf = (path: string) => path.split('/').slice(0, -1).join('/');

/** The first `limit` bytes of a file; the rest is never read. */
async function readHead(file: ArtifactFile, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of file.stream as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= limit) break;
    }
  } finally {
    file.stream.destroy();
  }
  return Buffer.concat(chunks).subarray(0, limit);
}

/** A run's page and its artifact browser; runs/get decides who sees the run, so its artifacts follow the same roles. */
export function runPages(app: App, assets: Assets) {
  const routes = new Hono<AppEnv>();
  const { experiments, runs } = app.tracking;
  const store = app.artifacts;

  const callerOf = (c: AppContext) => ({ user: principalOf(c).user, ip: c.get('clientIp') });
  const runOf = (c: AppContext) => runs.get(callerOf(c), { run_id: c.req.param('id') ?? '' }, { outputs: false }).run;

  /** The `path` query parameter, checked as every artifact path is ('' is the run's artifact root). */
  const requestedPath = (c: AppContext): string => {
    const path = (c.req.query('path') ?? '').replace(/\/+$/, '');
    if (path !== '') artifactPathSegments(path);
    return path;
  };
  const storedPath = (run: RunJson, path: string) => {
    const root = storePathOf(run.info.artifact_uri);
    return path ? `${root}/${path}` : root;
  };

  const listing = async (run: RunJson, path: string): Promise<ArtifactListing> => ({
    runId: run.info.run_id,
    path,
    // Runs whose artifacts live in another store (an explicit artifact_location) have nothing here to list.
    entries: run.info.artifact_uri.startsWith(OUR_ARTIFACTS) ? await store.list(storedPath(run, path)) : [],
  });

  const preview = async (run: RunJson, path: string): Promise<ArtifactPreview> => {
    if (path === '') throw invalidParameterValue('path must name a file');
    const file = await store.read(storedPath(run, path));
    const type = contentTypeOf(path.split('/').at(-1)!);
    if (type === 'text/plain') {
      const head = await readHead(file, PREVIEW_BYTES);
      return { path, kind: 'text', text: new TextDecoder().decode(head), size: file.size, shownBytes: head.length };
    }
    file.stream.destroy();
    return { path, kind: PREVIEW_IMAGES.has(type) ? 'image' : 'binary', size: file.size };
  };

  const page = (c: AppContext, run: RunJson, artifacts: ArtifactListing, shown?: ArtifactPreview) => {
    const caller = callerOf(c);
    const { experiment } = experiments.get(caller, { experiment_id: run.info.experiment_id });
    return runPage({
      ...pageProps(c, assets, 'experiments', run.info.run_name),
      styles: [assets.url('uplot.min.css')],
      scripts: [assets.url('uplot.min.js'), assets.url('charts.js')],
      run,
      experimentName: experiment.name,
      now: app.now(),
      artifacts,
      preview: shown,
      modelVersions: app.registry.versionsOfRun(caller, run.info.run_id),
    });
  };

  routes.get('/runs/:id', async (c) => {
    const run = runOf(c);
    return c.html(page(c, run, await listing(run, '')));
  });

  routes.get('/runs/:id/artifacts', async (c) => {
    const run = runOf(c);
    const folder = await listing(run, requestedPath(c));
    return fragmentOrPage(c, () => artifactBrowser(folder), () => page(c, run, folder));
  });

  routes.get('/runs/:id/artifacts/preview', async (c) => {
    const run = runOf(c);
    const path = requestedPath(c);
    const shown = await preview(run, path);
    if (isHtmx(c)) return c.html(artifactPreview(run.info.run_id, shown));
    return c.html(page(c, run, await listing(run, parentOf(path)), shown));
  });

  routes.get('/runs/:id/artifacts/raw', async (c) => {
    const run = runOf(c);
    const path = requestedPath(c);
    if (path === '') throw invalidParameterValue('path must name a file');
    const name = path.split('/').at(-1)!;
    const response = fileResponse(c, await store.read(storedPath(run, path)), name);
    if (INLINE_IMAGES.has(contentTypeOf(name))) response.headers.set('Content-Disposition', 'inline');
    return response;
  });

  return routes;
}
