import type { ModelVersion } from '../../src/registry/registry.ts';
import type { RunJson } from '../../src/tracking/run-json.ts';
import { layout, type LayoutProps } from './layout.ts';
import { artifactBrowser, type ArtifactListing, type ArtifactPreview } from './artifact-browser.ts';
import { formatTime, html, type Html } from './html.ts';
import { stageBadge, versionHref } from './model-page.ts';
import { aliasBadges, modelHref } from './models-page.ts';
import { formatDuration, formatMetric, keyValueTable, statusBadge } from './run-format.ts';

const MAX_CHARTS = 8;

export interface RunPageProps extends LayoutProps {
  run: RunJson;
  experimentName: string;
  now: number;
  artifacts: ArtifactListing;
  preview?: ArtifactPreview | undefined;
  /** The registered model versions created from this run that the viewer may see. */
  modelVersions: { versions: ModelVersion[]; truncated: boolean };
}

/** Lineage from the run's side: what was registered from it. Left out for the many runs that registered nothing. */
function modelVersionsPanel({ versions, truncated }: RunPageProps['modelVersions']): Html {
  if (versions.length === 0) return html``;
  return html`<div class="panel" id="model-versions">
    <h2>Registered model versions</h2>
    <table>
      <thead><tr><th>Model</th><th>Version</th><th>Stage</th><th>Aliases</th><th>Registered</th></tr></thead>
      <tbody>
      ${versions.map(
        (version) => html`<tr>
          <td><a href="${modelHref(version.name)}"><strong>${version.name}</strong></a></td>
          <td class="mono"><a href="${versionHref(version.name, version.version)}">v${version.version}</a></td>
          <td>${stageBadge(version.currentStage)}</td>
          <td>${aliasBadges(version.aliases)}</td>
          <td class="nowrap">${formatTime(version.creationTimestamp)}</td>
        </tr>`,
      )}
      </tbody>
    </table>
    ${truncated ? html`<p class="muted">Showing the first ${versions.length} versions.</p>` : ''}
  </div>`;
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
    ${modelVersionsPanel(props.modelVersions)}
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
