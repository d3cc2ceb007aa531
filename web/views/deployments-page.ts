import { layout, type LayoutProps } from './layout.ts';
import { html, type Html } from './html.ts';
import { DEPLOYMENT_REFRESH, deploymentLink, deploymentStateBadge, formatLatency, formatRate, type DeploymentRow } from './deployment-format.ts';
import { versionHref } from './model-page.ts';

export interface DeploymentFilter {
  project: string | undefined;
  /** Stopped and failed deployments too. */
  ended: boolean;
}

export interface DeploymentTable {
  filter: DeploymentFilter;
  rows: DeploymentRow[];
}

/** The filter as a query string (without `?`), for the form and the polling fragment. */
export function deploymentFilterQuery(filter: DeploymentFilter): string {
  const search = new URLSearchParams();
  if (filter.project) search.set('project', filter.project);
  if (filter.ended) search.set('ended', '1');
  return search.toString();
}

function rowOf({ deployment, modelName, metrics }: DeploymentRow): Html {
  const { latency } = metrics;
  return html`<tr id="deployment-${deployment.name}">
    <td>${deploymentLink(deployment.name)}</td>
    <td>${deploymentStateBadge(deployment.state)}${deployment.state === 'ready' ? '' : html`<div class="reason">${deployment.reason}</div>`}</td>
    <td><a href="/projects/${deployment.project}">${deployment.project}</a></td>
    <td class="mono clip">${deployment.model}</td>
    <td class="mono"><a href="${versionHref(modelName, deployment.version)}">v${deployment.version}</a>${deployment.rollout === null ? '' : html` <span class="muted">→ v${deployment.rollout}</span>`}</td>
    <td class="number">${deployment.readyReplicas}/${deployment.replicas}</td>
    <td class="number nowrap">${formatRate(metrics.ratePerSecond)}</td>
    <td class="number nowrap">${formatLatency(latency.p50)}</td>
    <td class="number nowrap">${formatLatency(latency.p99)}</td>
    <td class="mono nowrap">${deployment.path}</td>
  </tr>`;
}

/** The table; it asks for itself again every few seconds, so the traffic columns stay current. */
export function deploymentTable(table: DeploymentTable): Html {
  const query = deploymentFilterQuery(table.filter);
  return html`<div id="deployment-table" class="panel" hx-get="/deployments${query ? `?${query}` : ''}" hx-trigger="every ${DEPLOYMENT_REFRESH}" hx-swap="outerHTML">
    ${table.rows.length
      ? html`<div class="table-scroll"><table class="deployments">
          <thead><tr><th>Name</th><th>State</th><th>Project</th><th>Model</th><th>Version</th><th class="number">Ready</th><th class="number">Rate</th><th class="number">p50</th><th class="number">p99</th><th>URL path</th></tr></thead>
          <tbody>${table.rows.map(rowOf)}</tbody>
        </table></div>`
      : html`<p class="empty">No ${table.filter.ended ? '' : 'running '}deployments${table.filter.project ? ' in this project' : ''}. Deploy a model version with <code>yard deploy models:/&lt;name&gt;/&lt;version&gt; --name &lt;name&gt;</code>.</p>`}
  </div>`;
}

function filterForm(filter: DeploymentFilter, projects: readonly string[]): Html {
  return html`<form class="inline" method="get" action="/deployments">
    <label>Project <select name="project">
      <option value="">all</option>
      ${projects.map((name) => html`<option value="${name}"${name === filter.project ? ' selected' : ''}>${name}</option>`)}
    </select></label>
    <label class="check"><input type="checkbox" name="ended" value="1"${filter.ended ? ' checked' : ''}> show stopped and failed</label>
    <button type="submit">Filter</button>
  </form>`;
}

export function deploymentsPage(props: LayoutProps & { table: DeploymentTable; projects: readonly string[] }): Html {
  return layout(
    props,
    html`<h1>Deployments</h1>
    <div class="panel">${filterForm(props.table.filter, props.projects)}</div>
    ${deploymentTable(props.table)}`,
  );
}
