import type { AlertJson } from '../../src/alerts/alert-json.ts';
import type { RuleName } from '../../src/alerts/alerts.ts';
import { deploymentHref } from './deployment-format.ts';
import { formatTime, html, type Html } from './html.ts';
import { gpuHref, jobHref } from './job-format.ts';
import { layout, type LayoutProps } from './layout.ts';
import { formatDuration } from './run-format.ts';

export interface AlertBoard {
  open: AlertJson[];
  /** The latest resolved ones. */
  history: AlertJson[];
  now: number;
}

const RULE_LABELS: Record<RuleName, string> = {
  'gpu-idle': 'Idle GPU',
  'gpu-temperature': 'GPU temperature',
  'disk-full': 'Data disk',
  'deployment-degraded': 'Deployment degraded',
  'deployment-restarting': 'Restart loop',
  'job-queued': 'Queued job',
};

function severityBadge(severity: AlertJson['severity']): Html {
  return html`<span class="badge ${severity === 'critical' ? 'danger' : 'warn'}">${severity}</span>`;
}

/** The deployment, job or GPU the alert is about, as its details name it. */
function subjectLink({ details }: AlertJson): Html | string {
  const { deployment, jobId, gpu, gpuIndex } = details;
  if (typeof deployment === 'string') return html`<a href="${deploymentHref(deployment)}">${deployment}</a>`;
  if (typeof jobId === 'number') return html`<a href="${jobHref(jobId)}">job ${jobId}</a>`;
  if (typeof gpu === 'string') return html`<a href="${gpuHref(gpu)}">GPU ${typeof gpuIndex === 'number' ? gpuIndex : ''}</a>`;
  return html`<span class="muted">this machine</span>`;
}

function alertCells(alert: AlertJson): Html {
  return html`<td>${severityBadge(alert.severity)}</td>
    <td class="nowrap">${RULE_LABELS[alert.rule]}</td>
    <td>${alert.message}</td>
    <td class="nowrap">${subjectLink(alert)}</td>
    <td>${alert.project ?? html`<span class="muted">—</span>`}</td>`;
}

function openTable(alerts: AlertJson[], now: number): Html {
  if (alerts.length === 0) return html`<p class="empty">No open alerts.</p>`;
  return html`<div class="table-scroll"><table class="alerts">
    <thead><tr><th>Severity</th><th>Rule</th><th>What</th><th>About</th><th>Project</th><th>Fired</th><th>For</th></tr></thead>
    <tbody>${alerts.map(
      (alert) => html`<tr id="alert-${alert.id}">${alertCells(alert)}
        <td class="mono nowrap">${formatTime(alert.firedAt)}</td>
        <td class="nowrap">${formatDuration(alert.firedAt, undefined, now)}</td>
      </tr>`,
    )}</tbody>
  </table></div>`;
}

function historyTable(alerts: AlertJson[], now: number): Html {
  if (alerts.length === 0) return html`<p class="empty">No alert has resolved yet.</p>`;
  return html`<div class="table-scroll"><table class="alerts">
    <thead><tr><th>Severity</th><th>Rule</th><th>What</th><th>About</th><th>Project</th><th>Fired</th><th>Resolved</th><th>Lasted</th></tr></thead>
    <tbody>${alerts.map(
      (alert) => html`<tr id="alert-${alert.id}">${alertCells(alert)}
        <td class="mono nowrap">${formatTime(alert.firedAt)}</td>
        <td class="mono nowrap">${formatTime(alert.resolvedAt)}</td>
        <td class="nowrap">${formatDuration(alert.firedAt, alert.resolvedAt ?? undefined, now)}</td>
      </tr>`,
    )}</tbody>
  </table></div>`;
}

/** Both tables; also what the live channel sends again when an alert the viewer may see fires or resolves. */
function alertBoard(board: AlertBoard): Html {
  return html`<div id="alert-board">
    <div class="panel">
      <h2>Open <span class="muted">— ${board.open.length}</span></h2>
      ${openTable(board.open, board.now)}
    </div>
    <div class="panel">
      <h2>Recent history</h2>
      ${historyTable(board.history, board.now)}
    </div>
  </div>`;
}

export function alertBoardPartial(board: AlertBoard): Html {
  return html`<hx-partial hx-target="#alert-board" hx-swap="outerHTML">${alertBoard(board)}</hx-partial>`;
}

export function alertsPage(props: LayoutProps & { board: AlertBoard }): Html {
  return layout(
    props,
    html`<h1>Alerts <span class="muted">— about this machine and the jobs and deployments of your projects; updates live</span></h1>
    ${alertBoard(props.board)}`,
  );
}
