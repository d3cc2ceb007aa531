import { Hono } from 'hono';
import type { App } from '../../app.ts';
import { invalidParameterValue } from '../../lib/errors.ts';
import { comparePage } from '../../../web/views/compare-page.ts';
import type { Assets } from '../assets.ts';
import { principalOf, type AppEnv } from '../context.ts';
import { pageProps } from '../page-props.ts';

/** More lines than this make one chart unreadable, and cost a series request each. */
const MAX_COMPARED = 10;

/** Runs of one experiment side by side: their params and latest metrics, and one metric of all of them on one chart. */
export function comparePages(app: App, assets: Assets) {
  const routes = new Hono<AppEnv>();
  const { experiments, runs } = app.tracking;

  routes.get('/experiments/:id/compare', (c) => {
    const caller = { user: principalOf(c).user, ip: c.get('clientIp') };
    const { experiment } = experiments.get(caller, { experiment_id: c.req.param('id') });
    const runIds = [...new Set(c.req.queries('runs') ?? [])];
    if (runIds.length < 2) throw invalidParameterValue('Select at least two runs to compare');
    if (runIds.length > MAX_COMPARED) throw invalidParameterValue(`Compare at most ${MAX_COMPARED} runs at a time; ${runIds.length} were selected`);
    const compared = runIds.map((runId) => {
      const { run } = runs.get(caller, { run_id: runId }, { outputs: false });
      if (run.info.experiment_id !== experiment.experiment_id) {
        throw invalidParameterValue(`Run ${runId} is not in experiment ${experiment.experiment_id}`);
      }
      return run;
    });
    const metricKeys = [...new Set(compared.flatMap((run) => (run.data.metrics ?? []).map(({ key }) => key)))].sort();
    const metric = c.req.query('metric') ?? metricKeys[0];
    if (metric !== undefined && !metricKeys.includes(metric)) throw invalidParameterValue(`None of the runs has a metric '${metric}'`);
    return c.html(
      comparePage({
        ...pageProps(c, assets, 'experiments', `Compare runs · ${experiment.name}`),
        styles: [assets.url('uplot.min.css')],
        scripts: [assets.url('uplot.min.js'), assets.url('charts.js')],
        experiment: { id: experiment.experiment_id, name: experiment.name },
        runs: compared,
        metricKeys,
        metric,
      }),
    );
  });

  return routes;
}
