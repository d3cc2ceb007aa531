import { Hono } from 'hono';
import type { App } from '../../app.ts';
import type { ArtifactEntry } from '../../artifacts/artifact-store.ts';
import { createExperimentAccess, storePathOf } from '../../artifacts/experiment-access.ts';
import { artifactPathSegments } from '../../artifacts/safe-path.ts';
import { badRequest } from '../../lib/errors.ts';
import { createLoggedModels, type LoggedModel } from '../../tracking/logged-models.ts';
import { missingValue } from '../../tracking/message-fields.ts';
import { metricValueJson } from '../../tracking/metric-values.ts';
import { principalOf, type AppContext, type AppEnv } from '../context.ts';
import { entryJson, fileResponse } from './artifact-routes.ts';
import { messageOf } from './mlflow-message.ts';

/** service.proto's LoggedModel: tags with the info, params and metrics as its data; empty parts left out. */
function modelJson({ record, tags, params, metrics }: LoggedModel) {
  return {
    info: {
      model_id: record.modelId,
      experiment_id: String(record.experimentId),
      name: record.name,
      creation_timestamp_ms: record.creationTimestampMs,
      last_updated_timestamp_ms: record.lastUpdatedTimestampMs,
      artifact_uri: record.artifactUri,
      status: record.status,
      model_type: record.modelType,
      ...(record.sourceRunId && { source_run_id: record.sourceRunId }),
      ...(record.statusMessage && { status_message: record.statusMessage }),
      ...(tags.length > 0 && { tags }),
    },
    data: {
      ...(params.length > 0 && { params }),
      ...(metrics.length > 0 && {
        metrics: metrics.map((metric) => ({
          key: metric.key,
          value: metricValueJson(metric.value),
          timestamp: metric.timestamp,
          step: metric.step,
          ...(metric.datasetName && { dataset_name: metric.datasetName }),
          ...(metric.datasetDigest && { dataset_digest: metric.datasetDigest }),
          model_id: metric.modelId,
          run_id: metric.runId,
        })),
      }),
    },
  };
}

/** Entries of `dir` (relative to an artifact root), named relative to that root as MLflow's ListArtifacts does. */
function rootRelative(entries: ArtifactEntry[], dir: string) {
  return entries.map((entry) => entryJson(entry, dir ? `${dir}/${entry.name}` : entry.name));
}

/**
 * MLflow 3's logged models (service.proto), and ListArtifacts of a run (`GET /artifacts/list`): that one is a
 * tracking route under /mlflow rather than the artifact proxy's, so it lives in this sub-app, which is mounted
 * there, beside the logged models' own artifact listing.
 */
export function loggedModelRoutes(app: App) {
  const routes = new Hono<AppEnv>();
  const models = createLoggedModels(app);
  const access = createExperimentAccess(app);
  const userOf = (c: AppContext) => principalOf(c).user;

  /** The files under `dir` of an artifact root, after checking `dir` like any artifact path. */
  const listUnder = async (rootUri: string, dir: string) => {
    const root = storePathOf(rootUri);
    const clean = dir.replace(/\/+$/, '');
    if (clean !== '') artifactPathSegments(clean);
    const files = rootRelative(await app.artifacts.list(clean ? `${root}/${clean}` : root), clean);
    return { root_uri: rootUri, ...(files.length > 0 && { files }) };
  };

  routes.post('/logged-models', async (c) => c.json({ model: modelJson(models.create(userOf(c), await messageOf(c))) }));

  routes.post('/logged-models/search', async (c) => {
    const { models: found, nextPageToken } = models.search(userOf(c), await messageOf(c));
    return c.json({ ...(found.length > 0 && { models: found.map(modelJson) }), ...(nextPageToken && { next_page_token: nextPageToken }) });
  });

  routes.get('/logged-models/:modelId', (c) => c.json({ model: modelJson(models.get(userOf(c), c.req.param('modelId'))) }));

  routes.patch('/logged-models/:modelId', async (c) =>
    c.json({ model: modelJson(models.finalize(userOf(c), c.req.param('modelId'), await messageOf(c))) }),
  );

  routes.delete('/logged-models/:modelId', (c) => {
    models.remove(userOf(c), c.req.param('modelId'));
    return c.json({});
  });

  routes.patch('/logged-models/:modelId/tags', async (c) => {
    models.setTags(userOf(c), c.req.param('modelId'), await messageOf(c));
    return c.json({});
  });

  routes.delete('/logged-models/:modelId/tags/:key', (c) => {
    models.deleteTag(userOf(c), c.req.param('modelId'), c.req.param('key'));
    return c.json({});
  });

  routes.post('/logged-models/:modelId/params', async (c) => {
    models.logParams(userOf(c), c.req.param('modelId'), await messageOf(c));
    return c.json({});
  });

  routes.get('/logged-models/:modelId/artifacts/directories', async (c) => {
    const model = models.get(userOf(c), c.req.param('modelId'));
    return c.json(await listUnder(model.record.artifactUri, c.req.query('artifact_directory_path') ?? ''));
  });

  routes.get('/logged-models/:modelId/artifacts/files', async (c) => {
    const model = models.get(userOf(c), c.req.param('modelId'));
    const file = c.req.query('artifact_file_path');
    if (!file) throw badRequest('Request must include the "artifact_file_path" query parameter.');
    const segments = artifactPathSegments(file);
    return fileResponse(c, await app.artifacts.read(`${storePathOf(model.record.artifactUri)}/${file}`), segments.at(-1)!);
  });

  routes.get('/artifacts/list', async (c) => {
    const runId = c.req.query('run_id') || c.req.query('run_uuid');
    if (!runId) throw missingValue('run_id');
    const run = access.run(userOf(c), runId, 'viewer');
    return c.json(await listUnder(run.artifactUri, c.req.query('path') ?? ''));
  });

  return routes;
}
