import { Hono } from 'hono';
import type { App } from '../../app.ts';
import { roleAtLeast } from '../../auth/projects.ts';
import type { UserRecord } from '../../auth/user-queries.ts';
import { HttpError } from '../../lib/errors.ts';
import { parsePageToken, previousPageToken } from '../../lib/page-token.ts';
import type { Caller } from '../../registry/registry.ts';
import { modelBody, modelPage, type Lineage, type ModelBody } from '../../../web/views/model-page.ts';
import { modelTable, modelsPage, type ModelTable } from '../../../web/views/models-page.ts';
import { principalOf, type AppContext, type AppEnv } from '../context.ts';
import type { Assets } from '../assets.ts';
import { fragmentOrPage, pageProps } from '../page-props.ts';
import { readForm } from '../request-body.ts';

const PAGE_SIZE = 50;
const MAX_VERSIONS = 1000;

/** A string literal of MLflow's filter grammar, whatever quotes and backslashes the text holds. */
const quote = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;

/** What a 404 hides stays hidden: lineage to a run the viewer may not see is left out. */
function unlessMissing<T>(work: () => T): T | undefined {
  try {
    return work();
  } catch (error) {
    if (error instanceof HttpError && error.status === 404) return undefined;
    throw error;
  }
}

/** Registered models, their versions and aliases, read and changed through the registry so its roles apply. */
export function modelPages(app: App, assets: Assets) {
  const routes = new Hono<AppEnv>();
  const { registry } = app;

  const callerOf = (c: AppContext): Caller => ({ user: principalOf(c).user, ip: c.get('clientIp') });
  /** Project names by id, looked up once per request. */
  const projectNames = (user: UserRecord) => {
    const names = new Map<number, string>();
    return (projectId: number) => {
      if (!names.has(projectId)) names.set(projectId, app.projects.authorizeId(user, projectId, 'viewer').project.name);
      return names.get(projectId)!;
    };
  };
  /** The run and experiment each version came from, each looked up once. */
  const lineageOf = (caller: Caller) => {
    const found = new Map<string, Lineage | undefined>();
    return (runId: string) => {
      if (!found.has(runId)) {
        found.set(
          runId,
          unlessMissing(() => {
            const { info } = app.tracking.runs.get(caller, { run_id: runId }, { outputs: false }).run;
            const { experiment } = app.tracking.experiments.get(caller, { experiment_id: info.experiment_id });
            return { runName: info.run_name, experimentId: experiment.experiment_id, experimentName: experiment.name };
          }),
        );
      }
      return found.get(runId);
    };
  };

  const modelDetail = (c: AppContext) => {
    const caller = callerOf(c);
    const model = registry.getRegisteredModel(caller, c.req.param('name'));
    const { project, role } = app.projects.authorizeId(caller.user, model.projectId, 'viewer');
    const found = registry.searchModelVersions(caller, { filter: `name = ${quote(model.name)}`, orderBy: ['version_number DESC'], maxResults: MAX_VERSIONS });
    const lineage = lineageOf(caller);
    const body: ModelBody = {
      name: model.name,
      aliases: model.aliases,
      versions: found.versions.map((version) => ({
        version: version.version,
        stage: version.currentStage,
        aliases: version.aliases,
        createdAt: version.creationTimestamp,
        source: version.source,
        runId: version.runId,
        lineage: version.runId ? lineage(version.runId) : undefined,
        loggedModelId: version.loggedModelId,
      })),
      truncated: found.nextPageToken !== undefined,
      canEdit: roleAtLeast(role, 'editor'),
      csrfToken: principalOf(c).csrfToken ?? '',
    };
    return { model, project, body };
  };

  const renderModel = (c: AppContext) => {
    const { model, project, body } = modelDetail(c);
    return fragmentOrPage(
      c,
      () => modelBody(body),
      () => modelPage({ ...pageProps(c, assets, 'models', model.name), project: project.name, description: model.description, tags: model.tags, body }),
    );
  };

  routes.get('/models', (c) => {
    const caller = callerOf(c);
    const filter = (c.req.query('filter') ?? '').trim();
    const pageToken = c.req.query('page_token') ?? '';
    const offset = parsePageToken(pageToken);
    const found = registry.searchRegisteredModels(caller, {
      maxResults: PAGE_SIZE,
      ...(filter && { filter: `name ILIKE ${quote(`%${filter}%`)}` }),
      ...(pageToken && { pageToken }),
    });
    const projectOf = projectNames(caller.user);
    const table: ModelTable = {
      filter,
      models: found.models.map((model) => ({
        name: model.name,
        project: projectOf(model.projectId),
        latestVersion: model.latestVersions.reduce<number | undefined>((latest, { version }) => Math.max(latest ?? version, version), undefined),
        aliases: model.aliases.map(({ alias }) => alias),
        lastUpdated: model.lastUpdatedTimestamp,
        description: model.description,
      })),
      previous: previousPageToken(offset, PAGE_SIZE),
      next: found.nextPageToken,
    };
    return fragmentOrPage(
      c,
      () => modelTable(table),
      () => modelsPage({ ...pageProps(c, assets, 'models', 'Models'), table }),
    );
  });

  routes.get('/models/:name', (c) => renderModel(c));

  routes.post('/models/:name/aliases', async (c) => {
    const form = await readForm(c);
    registry.setAlias(callerOf(c), { name: c.req.param('name'), alias: form.alias ?? '', version: form.version ?? '' });
    return renderModel(c);
  });

  routes.post('/models/:name/aliases/:alias/delete', (c) => {
    registry.deleteAlias(callerOf(c), { name: c.req.param('name'), alias: c.req.param('alias') });
    return renderModel(c);
  });

  return routes;
}
