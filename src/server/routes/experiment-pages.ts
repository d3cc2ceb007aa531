import { Hono } from 'hono';
import type { App } from '../../app.ts';
import type { UserRecord } from '../../auth/user-queries.ts';
import { parsePageToken, previousPageToken } from '../../lib/page-token.ts';
import type { RunJson } from '../../tracking/run-json.ts';
import { experimentPage, runTable, type RunTable } from '../../../web/views/experiment-page.ts';
import { experimentsPage } from '../../../web/views/experiments-page.ts';
import { principalOf, type AppContext, type AppEnv } from '../context.ts';
import type { Assets } from '../assets.ts';
import { fragmentOrPage, pageProps } from '../page-props.ts';

const PAGE_SIZE = 50;
const MAX_COLUMNS = 6;

/** The first keys, alphabetically, that any run on the page has: the columns a page can show. */
function columnKeys(runs: RunJson[], pick: (run: RunJson) => Array<{ key: string }> | undefined): string[] {
  return [...new Set(runs.flatMap((run) => (pick(run) ?? []).map(({ key }) => key)))].sort().slice(0, MAX_COLUMNS);
}

/** Experiments and their runs, read through the MLflow API so the same roles and searches apply. */
export function experimentPages(app: App, assets: Assets) {
  const routes = new Hono<AppEnv>();
  const { experiments, runs } = app.tracking;

  const callerOf = (c: AppContext) => ({ user: principalOf(c).user, ip: c.get('clientIp') });
  /** Project names by id, looked up once per request. */
  const projectNames = (user: UserRecord) => {
    const names = new Map<number, string>();
    return (experimentId: string) => {
      const { projectId } = experiments.authorize(user, Number(experimentId), 'viewer');
      if (!names.has(projectId)) names.set(projectId, app.projects.authorizeId(user, projectId, 'viewer').project.name);
      return names.get(projectId)!;
    };
  };

  routes.get('/experiments', (c) => {
    const caller = callerOf(c);
    const projectOf = projectNames(caller.user);
    const found = experiments.search(caller, { max_results: 1000, order_by: ['creation_time DESC'] }).experiments ?? [];
    const activity = experiments.runActivity(caller, found.map(({ experiment_id }) => experiment_id));
    const rows = found.map((experiment) => ({
      id: experiment.experiment_id,
      name: experiment.name,
      project: projectOf(experiment.experiment_id),
      createdAt: experiment.creation_time,
      activeRuns: activity.get(experiment.experiment_id)?.activeRuns ?? 0,
      lastRunTime: activity.get(experiment.experiment_id)?.lastRunTime ?? null,
    }));
    return c.html(experimentsPage({ ...pageProps(c, assets, 'experiments', 'Experiments'), experiments: rows }));
  });

  routes.get('/experiments/:id', (c) => {
    const caller = callerOf(c);
    const { experiment } = experiments.get(caller, { experiment_id: c.req.param('id') });
    const query = { filter: c.req.query('filter') ?? '', orderBy: c.req.query('order_by') ?? '' };
    const pageToken = c.req.query('page_token') ?? '';
    const offset = parsePageToken(pageToken);
    const found = runs.search(caller, {
      experiment_ids: [experiment.experiment_id],
      max_results: PAGE_SIZE,
      ...(query.filter && { filter: query.filter }),
      ...(query.orderBy && { order_by: [query.orderBy] }),
      ...(pageToken && { page_token: pageToken }),
    });
    const page = found.runs ?? [];
    const table: RunTable = {
      experimentId: experiment.experiment_id,
      query,
      runs: page,
      metricKeys: columnKeys(page, (run) => run.data.metrics),
      paramKeys: columnKeys(page, (run) => run.data.params),
      previous: previousPageToken(offset, PAGE_SIZE),
      next: found.next_page_token,
      now: app.now(),
    };
    return fragmentOrPage(
      c,
      () => runTable(table),
      () =>
        experimentPage({
          ...pageProps(c, assets, 'experiments', experiment.name),
          experiment: { id: experiment.experiment_id, name: experiment.name, project: projectNames(caller.user)(experiment.experiment_id) },
          table,
        }),
    );
  });

  return routes;
}
