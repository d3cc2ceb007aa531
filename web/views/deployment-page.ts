import type { DeploymentEventJson, ReplicaJson } from '../../src/serving/deployment-json.ts';
import { layout, type LayoutProps } from './layout.ts';
import { formatTime, html, type Html } from './html.ts';
import { DEPLOYMENT_REFRESH, deploymentHref, deploymentStateBadge, replicaResources, type DeploymentRow } from './deployment-format.ts';
import { trafficPanel } from './deployment-traffic.ts';
import { heldGpus, jobHref, jobStateBadge, type GpuLabels } from './job-format.ts';
import { versionHref } from './model-page.ts';
import { postForm, type Editing } from './model-forms.ts';

export interface ReplicaRow {
  replica: ReplicaJson;
  gpuUuids: string[];
}

export interface DeploymentDetail extends DeploymentRow {
  /** The unfinished replica jobs. */
  replicas: ReplicaRow[];
  /** Newest first. */
  events: DeploymentEventJson[];
  /** Replica failures and failed rollouts among the events, newest first. */
  problems: DeploymentEventJson[];
  gpuLabels: GpuLabels;
  /** Stopped or failed: nothing changes any more. */
  ended: boolean;
  /** Present for the project's editors while the deployment serves: they may roll back and undeploy. */
  editing: Editing | undefined;
}

const row = (label: string, value: Html | string) => html`<tr><th>${label}</th><td>${value}</td></tr>`;

function formatTimeout(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000}m` : `${ms / 1000}s`;
}

function actions({ deployment, editing }: DeploymentDetail): Html {
  if (!editing) return html``;
  const { name, version, previousVersion, rollout } = deployment;
  const target = { target: '#deployment-detail', className: 'inline' };
  return html`<div class="deployment-actions">
    ${previousVersion !== null && rollout === null
      ? postForm(`${deploymentHref(name)}/rollback`, editing, html`<button type="submit">Roll back to v${previousVersion}</button>`, {
          ...target,
          confirm: `Roll ${name} back from version ${version} to version ${previousVersion}? Traffic moves once the new replicas are ready.`,
        })
      : ''}
    ${postForm(`${deploymentHref(name)}/undeploy`, editing, html`<button class="danger" type="submit">Undeploy</button>`, {
      ...target,
      confirm: `Undeploy ${name}? ${deployment.path} stops answering; the history stays.`,
    })}
  </div>`;
}

function summary(detail: DeploymentDetail): Html {
  const { deployment, modelName } = detail;
  const versionLink = (version: number) => html`<a href="${versionHref(modelName, version)}" class="mono">v${version}</a>`;
  return html`<div class="panel">
    <h2>Deployment</h2>
    <table class="details"><tbody>
      ${row('Project', html`<a href="/projects/${deployment.project}">${deployment.project}</a>`)}
      ${row('Model', html`<code>${deployment.model}</code> → ${versionLink(deployment.version)}`)}
      ${deployment.rollout === null ? '' : row('Rolling out', versionLink(deployment.rollout))}
      ${row('Previous version', deployment.previousVersion === null ? '—' : versionLink(deployment.previousVersion))}
      ${row('Image', html`<code>${deployment.image}</code>`)}
      ${deployment.command ? row('Command', html`<ol class="argv">${deployment.command.map((argument) => html`<li><code>${argument}</code></li>`)}</ol>`) : ''}
      ${row('Port', html`<span class="mono">${deployment.port}</span>`)}
      ${row('Health path', html`<code>${deployment.healthPath}</code> <span class="muted">· ready within ${formatTimeout(deployment.readinessTimeoutMs)}</span>`)}
      ${row('Each replica', replicaResources(deployment))}
      ${row('Replicas ready', `${deployment.readyReplicas} of ${deployment.replicas}`)}
      ${row('URL path', html`<code>${deployment.path}</code>`)}
      ${row('Access', deployment.public ? html`<span class="badge warn">public</span> anyone may call it` : "the project's members, with a token or a session")}
      ${row('Created', `${formatTime(deployment.createdAt)} by ${deployment.createdBy}`)}
      ${row('Ready since', formatTime(deployment.readyAt))}
    </tbody></table>
  </div>`;
}

function replicaTable({ replicas, gpuLabels }: DeploymentDetail): Html {
  return html`<div class="panel" id="deployment-replicas">
    <h2>Replicas</h2>
    ${replicas.length
      ? html`<table class="replicas">
          <thead><tr><th>Replica</th><th>Job</th><th>Version</th><th>State</th><th>Takes traffic</th><th>GPUs</th></tr></thead>
          <tbody>
          ${replicas.map(
            ({ replica, gpuUuids }) => html`<tr id="replica-${replica.job}">
              <td class="number">#${replica.slot}</td>
              <td><a href="${jobHref(replica.job)}">job ${replica.job}</a></td>
              <td class="mono">v${replica.version}</td>
              <td>${jobStateBadge(replica.state)}${replica.reason ? html`<div class="reason">${replica.reason}</div>` : ''}</td>
              <td>${replica.ready ? html`<span class="badge ok">ready</span>` : html`<span class="muted">not yet</span>`}</td>
              <td class="nowrap">${heldGpus(gpuUuids, gpuLabels)}</td>
            </tr>`,
          )}
          </tbody>
        </table>`
      : html`<p class="empty">No replica is queued or running.</p>`}
  </div>`;
}

function timeline(events: readonly DeploymentEventJson[]): Html {
  return html`<div class="panel" id="deployment-events">
    <h2>Events <span class="muted">· newest first</span></h2>
    <ol class="timeline">
      ${events.map(
        (event) => html`<li data-kind="${event.kind}">
          <time>${formatTime(event.at)}</time>
          <span class="badge">${event.kind}</span> ${event.message}
        </li>`,
      )}
    </ol>
  </div>`;
}

/** Everything that changes; the open page asks for it again every few seconds while the deployment lives. */
export function deploymentDetail(detail: DeploymentDetail): Html {
  const { deployment } = detail;
  const polling = detail.ended ? '' : html` hx-get="${deploymentHref(deployment.name)}" hx-trigger="every ${DEPLOYMENT_REFRESH}" hx-swap="outerHTML"`;
  return html`<div id="deployment-detail"${polling}>
    <div class="job-head">
      <h1>${deployment.name} ${deploymentStateBadge(deployment.state)}</h1>
      ${actions(detail)}
    </div>
    <p class="job-reason">${deployment.reason}</p>
    <div class="job-grid">
      <div>${summary(detail)}${replicaTable(detail)}</div>
      <div>${trafficPanel(detail.metrics, detail.problems)}${timeline(detail.events)}</div>
    </div>
  </div>`;
}

/** How to call it: the default serving image speaks MLflow's /invocations; other servers' paths pass through as they are. */
function curlExample({ deployment }: DeploymentDetail, serverUrl: string): Html {
  const auth = deployment.public ? '' : `-H "Authorization: Bearer $TRAINYARD_TOKEN" `;
  return html`<div class="panel" id="deployment-call">
    <h2>Call it</h2>
    <pre class="snippet">curl ${auth}-H 'Content-Type: application/json' \\
     -d '{"inputs": [[1.0, 2.0]]}' ${serverUrl}${deployment.path}/invocations</pre>
    <p class="muted">Paths after <code>${deployment.path}/</code> reach the model server unchanged.${deployment.public ? '' : html` Create a token under <a href="/settings/tokens">Settings</a>.`}</p>
  </div>`;
}

export function deploymentPage(props: LayoutProps & { detail: DeploymentDetail; serverUrl: string }): Html {
  return layout(
    props,
    html`<p class="crumbs"><a href="/deployments">Deployments</a> / ${props.detail.deployment.name}</p>
    ${deploymentDetail(props.detail)}
    ${curlExample(props.detail, props.serverUrl)}`,
  );
}
