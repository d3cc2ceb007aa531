import type { RunJson } from '../../src/tracking/run-json.ts';
import { layout, type LayoutProps } from './layout.ts';
import { html, type Html } from './html.ts';
import { formatMetric, statusBadge } from './run-format.ts';

export interface CompareProps extends LayoutProps {
  experiment: { id: string; name: string };
  runs: RunJson[];
  /** Every metric key the runs have, for the selector; `metric` is the one charted. */
  metricKeys: string[];
  metric: string | undefined;
}

interface Row {
  key: string;
  values: string[];
}

/** One row per key any run has, one cell per run ('' where a run lacks the key). */
function rowsOf(runs: RunJson[], pick: (run: RunJson) => Array<{ key: string; value: string }>): Row[] {
  const byRun = runs.map((run) => new Map(pick(run).map(({ key, value }) => [key, value])));
  const keys = [...new Set(byRun.flatMap((values) => [...values.keys()]))].sort();
  return keys.map((key) => ({ key, values: byRun.map((values) => values.get(key) ?? '') }));
}

function section(title: string, rows: Row[]): Html {
  if (rows.length === 0) return html``;
  return html`<tr class="section"><th colspan="100">${title}</th></tr>
    ${rows.map(({ key, values }) => {
      const differs = new Set(values).size > 1;
      return html`<tr class="${differs ? 'differs' : ''}"><td class="mono">${key}</td>${values.map((value) => html`<td class="mono">${value}</td>`)}</tr>`;
    })}`;
}

const seriesUrl = (runId: string, key: string) => `/api/v1/runs/${runId}/metrics/${encodeURIComponent(key)}/series`;

export function comparePage(props: CompareProps): Html {
  const { experiment, runs, metric } = props;
  const action = `/experiments/${experiment.id}/compare`;
  const lines = metric ? runs.map((run) => ({ label: run.info.run_name, url: seriesUrl(run.info.run_id, metric) })) : [];
  return layout(
    props,
    html`<h1>Compare ${runs.length} runs <span class="muted">· <a href="/experiments/${experiment.id}">${experiment.name}</a></span></h1>
    <div class="panel">
      <div class="table-scroll"><table class="compare">
        <thead><tr><th></th>${runs.map((run) => html`<th><a href="/runs/${run.info.run_id}">${run.info.run_name}</a> ${statusBadge(run.info.status)}</th>`)}</tr></thead>
        <tbody>
          ${section('Parameters', rowsOf(runs, (run) => run.data.params ?? []))}
          ${section('Latest metrics', rowsOf(runs, (run) => (run.data.metrics ?? []).map(({ key, value }) => ({ key, value: formatMetric(value) }))))}
        </tbody>
      </table></div>
    </div>
    <div class="panel">
      <h2>Chart</h2>
      ${props.metricKeys.length
        ? html`<form class="inline" method="get" action="${action}">
            ${runs.map((run) => html`<input type="hidden" name="runs" value="${run.info.run_id}">`)}
            <label>Metric <select name="metric">${props.metricKeys.map((key) => html`<option value="${key}" ${key === metric ? 'selected' : ''}>${key}</option>`)}</select></label>
            <button type="submit">Show</button>
          </form>
          <div class="chart wide" data-compare-chart="${JSON.stringify(lines)}" data-metric-key="${metric}"></div>`
        : html`<p class="empty">These runs have no metrics.</p>`}
    </div>`,
  );
}
