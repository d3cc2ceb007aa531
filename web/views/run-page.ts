import type { RunJson } from '../../src/tracking/run-json.ts';
import { layout, type LayoutProps } from './layout.ts';
import { artifactBrowser, type ArtifactListing, type ArtifactPreview } from './artifact-browser.ts';
import { formatTime, html, type Html } from './html.ts';
import { formatDuration, formatMetric, keyValueTable, statusBadge } from './run-format.ts';

const MAX_CHARTS = 8;

export interface RunPageProps extends LayoutProps {
  run: RunJson;
  experimentName: string;
  now: number;
  artifacts: ArtifactListing;
  preview?: ArtifactPreview | undefined;
}

export function runPage(props: RunPageProps): Html {
  const { info, data } = props.run;
  const metrics = data.metrics ?? [];
  return layout(
    props,
    html`<h1>${info.run_name} ${statusBadge(info.status)}</h1>
    <div class="grid">
      <div class="panel">
        <h2>Run</h2>
        <table><tbody>
          <tr><th>Run ID</th><td class="mono">${info.run_id}</td></tr>
          <tr><th>Experiment</th><td><a href="/experiments/${info.experiment_id}">${props.experimentName}</a></td></tr>
          <tr><th>User</th><td>${info.user_id}</td></tr>
          <tr><th>Started</th><td>${formatTime(info.start_time)}</td></tr>
          <tr><th>Ended</th><td>${formatTime(info.end_time)}</td></tr>
          <tr><th>Duration</th><td>${formatDuration(info.start_time, info.end_time, props.now)}</td></tr>
          <tr><th>Artifacts</th><td class="mono">${info.artifact_uri}</td></tr>
        </tbody></table>
      </div>
      <div class="panel">
        <h2>Metrics</h2>
        ${keyValueTable(metrics.map((metric) => ({ key: metric.key, value: `${formatMetric(metric.value)} (step ${metric.step})` })), 'No metrics logged.')}
      </div>
      <div class="panel"><h2>Parameters</h2>${keyValueTable(data.params ?? [], 'No parameters logged.')}</div>
      <div class="panel"><h2>Tags</h2>${keyValueTable(data.tags ?? [], 'No tags.')}</div>
    </div>
    ${metrics.length
      ? html`<div class="panel">
          <h2>Charts</h2>
          <div class="charts">
            ${metrics.slice(0, MAX_CHARTS).map(
              ({ key }) =>
                html`<div class="chart" data-metric-chart="/api/v1/runs/${info.run_id}/metrics/${encodeURIComponent(key)}/series" data-metric-key="${key}"></div>`,
            )}
          </div>
        </div>`
      : ''}
    <div class="panel"><h2>Artifacts</h2>${artifactBrowser(props.artifacts, props.preview)}</div>`,
  );
}
