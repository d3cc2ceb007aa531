import type { RunJson } from '../../src/tracking/run-json.ts';
import { layout, type LayoutProps } from './layout.ts';
import { formatTime, html, type Html } from './html.ts';
import { formatDuration, formatMetric, statusBadge } from './run-format.ts';

export interface RunQuery {
  filter: string;
  orderBy: string;
}

export interface RunTable {
  experimentId: string;
  query: RunQuery;
  runs: RunJson[];
  metricKeys: string[];
  paramKeys: string[];
  /** Page tokens of the neighbouring pages; undefined where there is none ('' is the first page). */
  previous: string | undefined;
  next: string | undefined;
  now: number;
}

function pageHref(table: RunTable, query: RunQuery & { pageToken?: string }): string {
  const search = new URLSearchParams();
  if (query.filter) search.set('filter', query.filter);
  if (query.orderBy) search.set('order_by', query.orderBy);
  if (query.pageToken) search.set('page_token', query.pageToken);
  const text = search.toString();
  return `/experiments/${table.experimentId}${text ? `?${text}` : ''}`;
}

/** A column header that sorts by `orderKey`, descending first, and flips on the second click. */
function sortHeader(table: RunTable, label: string, orderKey: string): Html {
  const current = table.query.orderBy;
  const descending = current === `${orderKey} DESC`;
  const ascending = current === `${orderKey} ASC`;
  const orderBy = descending ? `${orderKey} ASC` : `${orderKey} DESC`;
  return html`<th><a href="${pageHref(table, { ...table.query, orderBy })}">${label}${descending ? ' ↓' : ascending ? ' ↑' : ''}</a></th>`;
}

const quoted = (key: string) => `\`${key}\``;

export function runTable(table: RunTable): Html {
  const { runs, metricKeys, paramKeys } = table;
  return html`<div id="runs">
    ${runs.length
      ? html`<div class="table-scroll"><table>
          <thead><tr>
            <th></th>
            ${sortHeader(table, 'Run', 'attributes.run_name')}
            ${sortHeader(table, 'Status', 'attributes.status')}
            ${sortHeader(table, 'Started', 'attributes.start_time')}
            <th>Duration</th>
            ${sortHeader(table, 'User', 'attributes.user_id')}
            ${metricKeys.map((key) => sortHeader(table, key, `metrics.${quoted(key)}`))}
            ${paramKeys.map((key) => sortHeader(table, key, `params.${quoted(key)}`))}
          </tr></thead>
          <tbody>
          ${runs.map((run) => {
            const metrics = new Map(run.data.metrics?.map((metric) => [metric.key, metric.value]));
            const params = new Map(run.data.params?.map((param) => [param.key, param.value]));
            return html`<tr>
              <td><input type="checkbox" name="runs" value="${run.info.run_id}" form="compare" aria-label="Compare ${run.info.run_name}"></td>
              <td><a href="/runs/${run.info.run_id}"><strong>${run.info.run_name}</strong></a></td>
              <td>${statusBadge(run.info.status)}</td>
              <td>${formatTime(run.info.start_time)}</td>
              <td>${formatDuration(run.info.start_time, run.info.end_time, table.now)}</td>
              <td>${run.info.user_id}</td>
              ${metricKeys.map((key) => html`<td class="mono">${formatMetric(metrics.get(key))}</td>`)}
              ${paramKeys.map((key) => html`<td class="mono">${params.get(key) ?? ''}</td>`)}
            </tr>`;
          })}
          </tbody>
        </table></div>`
      : html`<p class="empty">No runs match.</p>`}
    <div class="pager">
      ${table.previous !== undefined ? html`<a href="${pageHref(table, { ...table.query, pageToken: table.previous })}">← Previous</a>` : ''}
      ${table.next !== undefined ? html`<a href="${pageHref(table, { ...table.query, pageToken: table.next })}">Next →</a>` : ''}
    </div>
  </div>`;
}

export function experimentPage(props: LayoutProps & { experiment: { id: string; name: string; project: string }; table: RunTable }): Html {
  const { experiment, table } = props;
  const action = `/experiments/${experiment.id}`;
  return layout(
    props,
    html`<h1>${experiment.name} <span class="muted">· ${experiment.project}</span></h1>
    <div class="panel">
      <form class="inline" method="get" action="${action}" hx-get="${action}" hx-target="#runs" hx-swap="outerHTML" hx-push-url="true">
        <label>Filter <input name="filter" size="60" value="${table.query.filter}" placeholder="metrics.accuracy > 0.9 and params.lr = '0.01'"></label>
        ${table.query.orderBy ? html`<input type="hidden" name="order_by" value="${table.query.orderBy}">` : ''}
        <button class="primary" type="submit">Search</button>
      </form>
    </div>
    <div class="panel">
      <form id="compare" class="inline compare-form" method="get" action="${action}/compare">
        <button type="submit">Compare</button> <span class="muted">the runs ticked below, two to ten</span>
      </form>
      ${runTable(table)}
    </div>`,
  );
}
