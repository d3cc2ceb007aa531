import type { DeploymentEventJson } from '../../src/serving/deployment-json.ts';
import type { DeploymentMetrics, StatusClass } from '../../src/serving/serving-metrics.ts';
import { formatTime, html, type Html } from './html.ts';
import { formatLatency, formatRate } from './deployment-format.ts';

const STATUS_CLASSES: StatusClass[] = ['2xx', '3xx', '4xx', '5xx'];

const share = (part: number, whole: number) => (whole === 0 ? '—' : `${Number(((100 * part) / whole).toFixed(1))}%`);

/** The cumulative buckets up to the first that holds every call: the rest would repeat the total. */
function histogram(metrics: DeploymentMetrics): Html {
  const { buckets } = metrics.latency;
  const last = buckets.findIndex(({ count }) => count === metrics.requests);
  return html`<table class="latency-buckets">
    <thead><tr><th>Took at most</th><th class="number">Calls</th><th class="number">Share</th></tr></thead>
    <tbody>
    ${buckets.slice(0, last + 1).map(
      ({ le, count }) => html`<tr><td class="nowrap">${le === '+Inf' ? 'any time' : formatLatency(le)}</td><td class="number">${count}</td><td class="number">${share(count, metrics.requests)}</td></tr>`,
    )}
    </tbody>
  </table>`;
}

function problemList(problems: readonly DeploymentEventJson[]): Html {
  if (problems.length === 0) return html``;
  return html`<h3>Recent problems</h3>
    <ul class="problems">${problems.map((event) => html`<li><time>${formatTime(event.at)}</time> ${event.message}</li>`)}</ul>`;
}

/** Calls through the proxy since the appliance started: by status class, latency percentiles and histogram. */
export function trafficPanel(metrics: DeploymentMetrics, problems: readonly DeploymentEventJson[]): Html {
  const { requests, statusClasses, latency } = metrics;
  return html`<div class="panel" id="deployment-traffic">
    <h2>Traffic</h2>
    ${requests === 0
      ? html`<p class="empty">No calls yet.</p>`
      : html`<dl class="readings traffic">
          <div><dt>Calls</dt><dd>${requests}</dd></div>
          <div><dt>Rate (last minute)</dt><dd>${formatRate(metrics.ratePerSecond)}</dd></div>
          <div><dt>Server errors</dt><dd>${share(statusClasses['5xx'], requests)}</dd></div>
          <div><dt>p50</dt><dd>${formatLatency(latency.p50)}</dd></div>
          <div><dt>p90</dt><dd>${formatLatency(latency.p90)}</dd></div>
          <div><dt>p99</dt><dd>${formatLatency(latency.p99)}</dd></div>
        </dl>
        <div class="traffic-tables">
          <table class="status-classes">
            <thead><tr><th>Status</th><th class="number">Calls</th><th class="number">Share</th></tr></thead>
            <tbody>
            ${STATUS_CLASSES.map(
              (statusClass) => html`<tr data-status="${statusClass}"><td>${statusClass}</td><td class="number">${statusClasses[statusClass]}</td><td class="number">${share(statusClasses[statusClass], requests)}</td></tr>`,
            )}
            </tbody>
          </table>
          ${histogram(metrics)}
        </div>
        <p class="muted">Percentiles over the latest calls; counts since the appliance started.</p>`}
    ${problemList(problems)}
  </div>`;
}
