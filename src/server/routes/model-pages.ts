import { Hono } from 'hono';
import type { App } from '../../app.ts';
import { roleAtLeast } from '../../auth/projects.ts';
import type { UserRecord } from '../../auth/user-queries.ts';
import { invalidParameterValue, unlessMissing } from '../../lib/errors.ts';
import { parsePageToken, previousPageToken } from '../../lib/page-token.ts';
import type { Caller, RegisteredModel } from '../../registry/registry.ts';
import type { Editing } from '../../../web/views/model-forms.ts';
import { modelBody, modelInfo, modelPage, type Lineage, type ModelBody, type ModelInfo } from '../../../web/views/model-page.ts';
import { versionBody, versionPage, type VersionDetail } from '../../../web/views/model-version-page.ts';
import { modelHref, modelTable, modelsPage, type ModelTable } from '../../../web/views/models-page.ts';
import { isHtmx, principalOf, type AppContext, type AppEnv } from '../context.ts';
import type { Assets } from '../assets.ts';
import { fragmentOrPage, pageProps } from '../page-props.ts';
import { readForm } from '../request-body.ts';

const PAGE_SIZE = 50;
const MAX_VERSIONS = 1000;

/** A string literal of MLflow's filter grammar, whatever quotes and backslashes the text holds. */
const quote = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;

type Form = Record<string, string>;

/** A field the form must carry, even empty: a post without it changes nothing. */
function required(form: Form, name: string): string {
  const value = form[name];
  if (value === undefined) throw invalidParameterValue(`Missing value for required parameter '${name}'.`);
  return value;
}

/** A checkbox is left out when unticked. */
function ticked(form: Form, name: string): boolean {
  const value = form[name];
  if (value !== undefined && value !== 'true') throw invalidParameterValue(`'${name}' must be 'true' or left out, got '${value}'.`);
  return value === 'true';
}

/** Browsers send a textarea's line breaks as CRLF; descriptions keep plain newlines, as the MLflow client writes them. */
const plainLines = (text: string) => text.replace(/\r\n?/g, '\n');

/** After a delete the page shown is gone: htmx follows HX-Redirect, a plain form post a 303. */
function redirectTo(c: AppContext, path: string) {
  if (!isHtmx(c)) return c.redirect(path, 303);
  c.header('HX-Redirect', path);
  return c.body(null, 204);
}

/** Registered models, their versions and aliases, read and changed through the registry so its roles and audit apply. */
export function modelPages(app: App, assets: Assets) {
  const routes = new Hono<AppEnv>();
  const { registry } = app;

  const callerOf = (c: AppContext): Caller => ({ user: principalOf(c).user, ip: c.get('clientIp') });
  const versionOf = (c: AppContext) => ({ name: c.req.param('name'), version: c.req.param('version') });
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
  /** The model's project, and what the forms need when the caller may edit there (viewers get no forms). */
  const accessTo = (c: AppContext, model: RegisteredModel) => {
    const { user, csrfToken = '' } = principalOf(c);
    const { project, role } = app.projects.authorizeId(user, model.projectId, 'viewer');
    const editing: Editing | undefined = roleAtLeast(role, 'editor') ? { csrfToken } : undefined;
    return { project: project.name, editing };
  };

  const modelDetail = (c: AppContext) => {
    const caller = callerOf(c);
    const model = registry.getRegisteredModel(caller, c.req.param('name'));
    const { project, editing } = accessTo(c, model);
    const info: ModelInfo = { name: model.name, description: model.description, tags: model.tags, editing };
    return { caller, model, project, editing, info };
  };

  /** The aliases and versions with their lineage: read only when shown, since a model may have many versions. */
  const bodyOf = ({ caller, model, editing }: ReturnType<typeof modelDetail>): ModelBody => {
    const found = registry.searchModelVersions(caller, { filter: `name = ${quote(model.name)}`, orderBy: ['version_number DESC'], maxResults: MAX_VERSIONS });
    const lineage = lineageOf(caller);
    return {
      name: model.name,
      aliases: model.aliases,
      versions: found.versions.map((version) => ({
        version: version.version,
        stage: version.currentStage,
        aliases: version.aliases,
        createdAt: version.creationTimestamp,
        description: version.description,
        source: version.source,
        runId: version.runId,
        lineage: version.runId ? lineage(version.runId) : undefined,
        loggedModelId: version.loggedModelId,
      })),
      truncated: found.nextPageToken !== undefined,
      editing,
    };
  };

  /** The model page, or to htmx the one fragment a form changed. */
  const renderModel = (c: AppContext, fragment: 'info' | 'body') => {
    const detail = modelDetail(c);
    return fragmentOrPage(
      c,
      () => (fragment === 'info' ? modelInfo(detail.info) : modelBody(bodyOf(detail))),
      () => modelPage({ ...pageProps(c, assets, 'models', detail.model.name), project: detail.project, info: detail.info, body: bodyOf(detail) }),
    );
  };
  const renderInfo = (c: AppContext) => renderModel(c, 'info');
  const renderBody = (c: AppContext) => renderModel(c, 'body');

  const renderVersion = (c: AppContext) => {
    const caller = callerOf(c);
    const model = registry.getRegisteredModel(caller, c.req.param('name'));
    const version = registry.getModelVersion(caller, versionOf(c));
    const { project, editing } = accessTo(c, model);
    const detail: VersionDetail = {
      name: version.name,
      version: version.version,
      aliases: version.aliases,
      userId: version.userId,
      status: version.status,
      source: version.source,
      runId: version.runId,
      loggedModelId: version.loggedModelId,
      description: version.description,
      tags: version.tags,
      stage: version.currentStage,
      createdAt: version.creationTimestamp,
      updatedAt: version.lastUpdatedTimestamp,
      lineage: version.runId ? lineageOf(caller)(version.runId) : undefined,
      editing,
    };
    return fragmentOrPage(
      c,
      () => versionBody(detail),
      () => versionPage({ ...pageProps(c, assets, 'models', `${detail.name} v${detail.version}`), project, detail }),
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

  routes.get('/models/:name', (c) => renderBody(c));

  routes.post('/models/:name/description', async (c) => {
    const form = await readForm(c);
    registry.updateRegisteredModel(callerOf(c), { name: c.req.param('name'), description: plainLines(required(form, 'description')) });
    return renderInfo(c);
  });

  routes.post('/models/:name/tags', async (c) => {
    const form = await readForm(c);
    registry.setRegisteredModelTag(callerOf(c), { name: c.req.param('name'), key: form.key, value: form.value });
    return renderInfo(c);
  });

  routes.post('/models/:name/tags/delete', async (c) => {
    const form = await readForm(c);
    registry.deleteRegisteredModelTag(callerOf(c), { name: c.req.param('name'), key: form.key });
    return renderInfo(c);
  });

  routes.post('/models/:name/aliases', async (c) => {
    const form = await readForm(c);
    registry.setAlias(callerOf(c), { name: c.req.param('name'), alias: form.alias ?? '', version: form.version ?? '' });
    return renderBody(c);
  });

  routes.post('/models/:name/aliases/:alias/delete', (c) => {
    registry.deleteAlias(callerOf(c), { name: c.req.param('name'), alias: c.req.param('alias') });
    return renderBody(c);
  });

  routes.post('/models/:name/delete', (c) => {
    registry.deleteRegisteredModel(callerOf(c), c.req.param('name'));
    return redirectTo(c, '/models');
  });

  routes.get('/models/:name/versions/:version', (c) => renderVersion(c));

  routes.post('/models/:name/versions/:version/description', async (c) => {
    const form = await readForm(c);
    registry.updateModelVersion(callerOf(c), { ...versionOf(c), description: plainLines(required(form, 'description')) });
    return renderVersion(c);
  });

  routes.post('/models/:name/versions/:version/tags', async (c) => {
    const form = await readForm(c);
    registry.setModelVersionTag(callerOf(c), { ...versionOf(c), key: form.key, value: form.value });
    return renderVersion(c);
  });

  routes.post('/models/:name/versions/:version/tags/delete', async (c) => {
    const form = await readForm(c);
    registry.deleteModelVersionTag(callerOf(c), { ...versionOf(c), key: form.key });
    return renderVersion(c);
  });

  routes.post('/models/:name/versions/:version/stage', async (c) => {
    const form = await readForm(c);
    const archiveExistingVersions = ticked(form, 'archive_existing_versions');
    registry.transitionStage(callerOf(c), { ...versionOf(c), stage: required(form, 'stage'), archiveExistingVersions });
    return renderVersion(c);
  });

  routes.post('/models/:name/versions/:version/delete', (c) => {
    registry.deleteModelVersion(callerOf(c), versionOf(c));
    return redirectTo(c, modelHref(c.req.param('name')));
  });

  return routes;
}
