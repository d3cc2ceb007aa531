import type { MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { App } from '../../app.ts';
import { storePathOf } from '../../artifacts/experiment-access.ts';
import { artifactPathSegments } from '../../artifacts/safe-path.ts';
import { forbidden } from '../../lib/errors.ts';
import { parseExperimentId, type ExperimentJson } from '../../tracking/experiments.ts';
import { runIdOf, text, texts, type Message } from '../../tracking/message-fields.ts';
import type { AppContext, AppEnv } from '../context.ts';
import { messageOf } from '../mlflow/mlflow-message.ts';

/**
 * What a job's run-scoped token may do on one MLflow route:
 * - `own-run`: the request names a run (`run_id`, else `run_uuid`, in the body or query) and it must be the token's;
 * - `own-artifacts`: the artifact path (after the route, or the `path` query) must lie in the run's artifact folder;
 * - `project-runs` / `project-experiments` / `project-experiment-name`: a read whose runs or experiments must all be
 *   in the run's project;
 * - `project-answer`: a search across projects, whose answer keeps the run's project's experiments only;
 * - `denied`: never.
 */
export type RunScopeRule = 'own-run' | 'own-artifacts' | 'project-runs' | 'project-experiments' | 'project-experiment-name' | 'project-answer' | 'denied';

/**
 * Every MLflow route by its method and path below `/api/2.0` (and `/ajax-api/2.0`). A test walks the route table:
 * a route missing here fails it. Anything that is not an MLflow route is denied to a run-scoped token.
 */
export const RUN_SCOPE_RULES: Readonly<Record<string, RunScopeRule>> = {
  'POST /mlflow/experiments/create': 'denied',
  'GET /mlflow/experiments/get': 'project-experiments',
  'GET /mlflow/experiments/get-by-name': 'project-experiment-name',
  'GET /mlflow/experiments/search': 'project-answer',
  'POST /mlflow/experiments/search': 'project-answer',
  'POST /mlflow/experiments/update': 'denied',
  'POST /mlflow/experiments/delete': 'denied',
  'POST /mlflow/experiments/restore': 'denied',
  'POST /mlflow/experiments/set-experiment-tag': 'denied',
  'POST /mlflow/experiments/delete-experiment-tag': 'denied',
  'POST /mlflow/experiments/search-datasets': 'project-experiments',

  'POST /mlflow/runs/create': 'denied',
  'GET /mlflow/runs/get': 'project-runs',
  'POST /mlflow/runs/update': 'own-run',
  'POST /mlflow/runs/delete': 'denied',
  'POST /mlflow/runs/restore': 'denied',
  'POST /mlflow/runs/search': 'project-experiments',
  'POST /mlflow/runs/set-tag': 'own-run',
  'POST /mlflow/runs/delete-tag': 'own-run',
  'POST /mlflow/runs/log-parameter': 'own-run',
  'POST /mlflow/runs/log-metric': 'own-run',
  'POST /mlflow/runs/log-batch': 'own-run',
  'POST /mlflow/runs/log-inputs': 'own-run',
  'POST /mlflow/runs/log-model': 'own-run',
  'POST /mlflow/runs/outputs': 'own-run',
  'GET /mlflow/metrics/get-history': 'project-runs',
  'GET /mlflow/metrics/get-history-bulk': 'project-runs',
  'GET /mlflow/metrics/get-history-bulk-interval': 'project-runs',
  'GET /mlflow/artifacts/list': 'own-run',

  // MLflow 3's logged models live outside the run's artifact folder: not for a job's token (yet).
  'POST /mlflow/logged-models': 'denied',
  'POST /mlflow/logged-models/search': 'denied',
  'GET /mlflow/logged-models/:modelId': 'denied',
  'PATCH /mlflow/logged-models/:modelId': 'denied',
  'DELETE /mlflow/logged-models/:modelId': 'denied',
  'PATCH /mlflow/logged-models/:modelId/tags': 'denied',
  'DELETE /mlflow/logged-models/:modelId/tags/:key': 'denied',
  'POST /mlflow/logged-models/:modelId/params': 'denied',
  'GET /mlflow/logged-models/:modelId/artifacts/directories': 'denied',
  'GET /mlflow/logged-models/:modelId/artifacts/files': 'denied',

  // The registry: a model's files lie in another run's artifacts, which a job's token cannot read anyway.
  'POST /mlflow/registered-models/create': 'denied',
  'GET /mlflow/registered-models/get': 'denied',
  'POST /mlflow/registered-models/rename': 'denied',
  'PATCH /mlflow/registered-models/update': 'denied',
  'DELETE /mlflow/registered-models/delete': 'denied',
  'GET /mlflow/registered-models/search': 'denied',
  'POST /mlflow/registered-models/set-tag': 'denied',
  'DELETE /mlflow/registered-models/delete-tag': 'denied',
  'POST /mlflow/registered-models/alias': 'denied',
  'GET /mlflow/registered-models/alias': 'denied',
  'DELETE /mlflow/registered-models/alias': 'denied',
  'GET /mlflow/registered-models/get-latest-versions': 'denied',
  'POST /mlflow/registered-models/get-latest-versions': 'denied',
  'POST /mlflow/model-versions/create': 'denied',
  'GET /mlflow/model-versions/get': 'denied',
  'PATCH /mlflow/model-versions/update': 'denied',
  'DELETE /mlflow/model-versions/delete': 'denied',
  'GET /mlflow/model-versions/search': 'denied',
  'POST /mlflow/model-versions/set-tag': 'denied',
  'DELETE /mlflow/model-versions/delete-tag': 'denied',
  'GET /mlflow/model-versions/get-download-uri': 'denied',
  'POST /mlflow/model-versions/transition-stage': 'denied',

  'GET /mlflow-artifacts/artifacts': 'own-artifacts',
  'GET /mlflow-artifacts/artifacts/*': 'own-artifacts',
  'PUT /mlflow-artifacts/artifacts/*': 'own-artifacts',
  'DELETE /mlflow-artifacts/artifacts/*': 'denied',
  'POST /mlflow-artifacts/mpu/create/*': 'own-artifacts',
  'POST /mlflow-artifacts/mpu/complete/*': 'own-artifacts',
  'POST /mlflow-artifacts/mpu/abort/*': 'own-artifacts',
};

const MLFLOW_PREFIX = /^\/(?:ajax-)?api\/2\.0(?=\/mlflow(?:-artifacts)?\/)/;

/** The rule key of a mounted route (`POST /api/2.0/mlflow/runs/log-metric` -> `POST /mlflow/runs/log-metric`); undefined off the MLflow API. */
export function runScopeKey(method: string, path: string): string | undefined {
  return MLFLOW_PREFIX.test(path) ? `${method} ${path.replace(MLFLOW_PREFIX, '')}` : undefined;
}

/** The artifact path a request names: what the route's `*` matched, else the `path` query (a listing). */
function artifactPathOf(c: AppContext, routePath: string): string {
  const path = routePath.endsWith('/*') ? c.req.path.slice(routePath.length - 1) : (c.req.query('path') ?? '');
  return path.replace(/\/+$/, '');
}

/**
 * The one place that confines a job's run-scoped token (see Tokens.createForRun): it writes to its own run and
 * that run's artifacts, reads within the run's project, and does nothing else (403 naming the run). Handlers
 * then check the user's role as for any caller. Mounted after the credential check.
 */
export function runScope(app: App): MiddlewareHandler<AppEnv> {
  const { runs, experiments } = app.tracking;

  return async function runScope(c, next) {
    const principal = c.get('principal');
    const runUuid = principal?.runScope;
    if (!principal || runUuid === undefined) return next();
    const user = principal.user;
    const refuse = (what: string) => forbidden(`this token is scoped to run ${runUuid}: ${what}`);

    const route = matchedRoutes(c).find((matched) => matched.method !== 'ALL');
    const key = route && runScopeKey(route.method, route.path);
    const rule = key === undefined ? 'denied' : (RUN_SCOPE_RULES[key] ?? 'denied');
    let own: ReturnType<typeof runs.find> | undefined;
    const ownRun = () => (own ??= runs.find(user, runUuid, 'viewer'));
    const inOwnProject = (projectId: number) => projectId === ownRun().projectId;
    const experimentInProject = (id: string) => inOwnProject(experiments.authorize(user, parseExperimentId(id), 'viewer').projectId);

    switch (rule) {
      case 'denied':
        throw refuse(`it cannot call ${c.req.method} ${c.req.path}`);
      case 'own-run': {
        const named = runIdOf(await messageOf(c));
        if (named !== runUuid) throw refuse(`it cannot touch run ${named}`);
        return next();
      }
      case 'own-artifacts': {
        const folder = storePathOf(ownRun().artifactUri).split('/');
        const path = artifactPathOf(c, route!.path);
        const segments = path === '' ? [] : artifactPathSegments(path);
        if (!folder.every((name, index) => segments[index] === name)) throw refuse(`its artifacts are under ${folder.join('/')}`);
        return next();
      }
      case 'project-runs': {
        const message = await messageOf(c);
        const named = ['run_id', 'run_uuid', 'run_ids'].flatMap((field) => texts(message, field));
        if (!named.every((id) => inOwnProject(runs.find(user, id, 'viewer').projectId))) throw refuse("it reads only in its run's project");
        return next();
      }
      case 'project-experiments': {
        const message = await messageOf(c);
        const named = ['experiment_id', 'experiment_ids'].flatMap((field) => texts(message, field));
        if (!named.every((id) => experimentInProject(id))) throw refuse("it reads only in its run's project");
        return next();
      }
      case 'project-experiment-name': {
        const message: Message = { experiment_name: text(await messageOf(c), 'experiment_name', true) };
        const { experiment } = experiments.getByName({ user }, message);
        if (!experimentInProject(experiment.experiment_id)) throw refuse("it reads only in its run's project");
        return next();
      }
      case 'project-answer': {
        await next();
        if (c.res.status !== 200) return;
        const answer = (await c.res.json()) as { experiments?: ExperimentJson[]; next_page_token?: string };
        const kept = (answer.experiments ?? []).filter((experiment) => experimentInProject(experiment.experiment_id));
        const body = { ...(kept.length > 0 && { experiments: kept }), ...(answer.next_page_token && { next_page_token: answer.next_page_token }) };
        c.res = undefined;
        c.res = c.json(body);
        return;
      }
    }
  };
}
