import type { DeploymentEventJson, ReplicaJson } from '../../src/serving/deployment-json.ts';
import type { RequestSampleJson } from '../../src/serving/request-samples.ts';
import { layout, type LayoutProps } from './layout.ts';
import { formatTime, html, type Html } from './html.ts';
import { DEPLOYMENT_REFRESH, deploymentHref, deploymentStateBadge, replicaResources, type DeploymentRow } from './deployment-format.ts';
import { samplesPanel } from './deployment-samples.ts';
import { deploymentTokensPanel, type DeploymentTokensProps } from './deployment-tokens.ts';
import { trafficPanel } from './deployment-traffic.ts';
import { heldGpus, jobHref, jobStateBadge, type GpuLabels } from './job-format.ts';
import { versionHref } from './model-page.ts';
import { postForm, type Editing } from './model-forms.ts';
import { usagePanel } from './resource-chart.ts';

export interface ReplicaRow {
  replica: ReplicaJson;
  gpuUuids: string[];
}

export interface DeploymentDetail extends DeploymentRow {
  /** The deployment's id: its resource charts are fed by it. */
  deploymentId: number;
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
  /** The latest sampled calls, newest first. */
  samples: RequestSampleJson[];
}

const row = (label: string, value: Html | string) => html`<tr><th>${label}</th><td>${value}</td></tr>`;

function formatTimeout(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000}m` : `${ms / 1000}s`;
}

function actions({ deployment, editing }: DeploymentDetail): Html {
  if (!editing) return html``;
  const { name, version, previousVersion, rollout, canary } = deployment;
  const target = { target: '#deployment-detail', className: 'inline' };
  return html`<div class="deployment-actions">
    ${canary
      ? html`${postForm(`${deploymentHref(name)}/promote`, editing, html`<button class="primary" type="submit">Promote v${canary.version}</button>`, {
          ...target,
          confirm: `Send every call of ${name} to version ${canary.version}? Version ${version} stops after the drain.`,
        })}
        ${postForm(`${deploymentHref(name)}/rollback`, editing, html`<button type="submit">Roll back the canary</button>`, {
          ...target,
          confirm: `Stop the canary of version ${canary.version}? Version ${version} takes every call again.`,
        })}`
      : ''}
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
      ${deployment.rollout === null || deployment.canary ? '' : row('Rolling out', versionLink(deployment.rollout))}
      ${deployment.canary
        ? row('Canary', html`${versionLink(deployment.canary.version)} takes <strong>${deployment.canary.weight}%</strong> of the calls <span class="muted">· ${deployment.canary.readyReplicas} replica${deployment.canary.readyReplicas === 1 ? '' : 's'} ready</span>`)
        : ''}
      ${row('Previous version', deployment.previousVersion === null ? '—' : versionLink(deployment.previousVersion))}
      ${row('Image', html`<code>${deployment.image}</code>`)}
      ${deployment.command ? row('Command', html`<ol class="argv">${deployment.command.map((argument) => html`<li><code>${argument}</code></li>`)}</ol>`) : ''}
      ${row('Port', html`<span class="mono">${deployment.port}</span>`)}
      ${row('Health path', html`<code>${deployment.healthPath}</code> <span class="muted">· ready within ${formatTimeout(deployment.readinessTimeoutMs)}</span>`)}
      ${row('Each replica', replicaResources(deployment))}
      ${row('Replicas ready', `${deployment.readyReplicas} of ${deployment.replicas}`)}
      ${row('URL path', html`<code>${deployment.path}</code>`)}
      ${row('Access', deployment.public ? html`<span class="badge warn">public</span> anyone may call it` : "the project's members, with a token or a session, and this deployment's tokens")}
      ${row('Alias moves', deployment.canaryWeight === null ? 'all calls switch once the new version is ready' : `the new version takes ${deployment.canaryWeight}% of the calls as a canary until promoted or rolled back`)}
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
    ${samplesPanel(deployment, detail.samples)}
  </div>`;
}

/** How to call it: the default serving image speaks MLflow's /invocations; other servers' paths pass through as they are. */
function curlExample({ deployment }: DeploymentDetail, serverUrl: string): Html {
  const auth = deployment.public ? '' : `-H "Authorization: Bearer $TRAINYARD_TOKEN" `;
  return html`<div class="panel" id="deployment-call">
    <h2>Call it</h2>
    <pre class="snippet">curl ${auth}-H 'Content-Type: application/json' \\
     -d '{"inputs": [[1.0, 2.0]]}' ${serverUrl}${deployment.path}/invocations</pre>
    <p class="muted">Paths after <code>${deployment.path}/</code> reach the model server unchanged.${deployment.public ? '' : html` Use a token of your own (under <a href="/settings/tokens">Settings</a>) or one that calls this deployment only.`}</p>
  </div>`;
}

/** `tokens` for the project's editors. */
export function deploymentPage(props: LayoutProps & { detail: DeploymentDetail; serverUrl: string; tokens?: DeploymentTokensProps }): Html {
  return layout(
    props,
    html`<p class="crumbs"><a href="/deployments">Deployments</a> / ${props.detail.deployment.name}</p>
    ${deploymentDetail(props.detail)}
    ${usagePanel({ kind: 'deployment', deploymentId: props.detail.deploymentId }, props.detail.ended ? '' : 'summed over the replicas, live')}
    ${curlExample(props.detail, props.serverUrl)}
    ${props.tokens ? deploymentTokensPanel(props.tokens) : ''}`,
  );
}
