import type { UsageGrouping } from '../../src/accounting/usage-query.ts';
import type { UsageFigures, UsageGroup, UsageReport } from '../../src/accounting/usage-report.ts';
import { layout, type LayoutProps } from './layout.ts';
import { html, type Html } from './html.ts';

const GROUPINGS: Array<{ by: UsageGrouping; label: string }> = [
  { by: 'project', label: 'project' },
  { by: 'user', label: 'user' },
  { by: 'day', label: 'day only' },
];

const hours = (value: number) => (value === 0 ? '—' : value.toFixed(2));
const percent = (share: number | null) => (share === null ? '—' : `${Math.round(share * 100)}%`);

function figureCells(figures: UsageFigures): Html {
  return html`<td class="number">${hours(figures.allocatedGpuHours)}</td>
    <td class="number">${hours(figures.usedGpuHours)}</td>
    <td class="number">${percent(figures.utilization)}</td>
    <td class="number">${hours(figures.cpuHours)}</td>
    <td class="number">${hours(figures.memoryGibHours)}</td>
    <td class="number">${figures.jobs}</td>`;
}

const FIGURE_HEADS = html`<th class="number">GPU-h allocated</th><th class="number">GPU-h used</th><th class="number">Utilization</th><th class="number">CPU-h</th><th class="number">Memory GiB-h</th><th class="number">Jobs</th>`;

function groupTitle(group: UsageGroup, by: UsageGrouping): Html {
  if (by === 'project') return html`Project <a href="/projects/${group.name}">${group.name}</a>`;
  return by === 'user' ? html`User ${group.name}` : html`All visible projects`;
}

function groupPanel(group: UsageGroup, by: UsageGrouping): Html {
  return html`<div class="panel usage-group" id="usage-${by}-${group.name}">
    <h2>${groupTitle(group, by)}</h2>
    <div class="table-scroll"><table>
      <thead><tr><th>Day (UTC)</th>${FIGURE_HEADS}</tr></thead>
      <tbody>${group.days.map((day) => html`<tr><td class="mono">${day.day}</td>${figureCells(day)}</tr>`)}</tbody>
      <tfoot><tr><td><strong>Total</strong></td>${figureCells(group.total)}</tr></tfoot>
    </table></div>
  </div>`;
}

function rangeForm(report: UsageReport): Html {
  return html`<form class="inline" method="get" action="/usage">
    <label>From <input type="date" name="from" value="${report.from}" required></label>
    <label>To <input type="date" name="to" value="${report.to}" required></label>
    <label>By <select name="by">
      ${GROUPINGS.map(({ by, label }) => html`<option value="${by}"${by === report.by ? ' selected' : ''}>${label}</option>`)}
    </select></label>
    <button type="submit">Show</button>
  </form>`;
}

function summary(report: UsageReport): Html {
  const label = report.by === 'day' ? 'All' : `All ${report.groups.length} ${report.by}${report.groups.length === 1 ? '' : 's'}`;
  return html`<div class="panel" id="usage-total">
    <div class="table-scroll"><table>
      <thead><tr><th>${report.from} to ${report.to}</th>${FIGURE_HEADS}</tr></thead>
      <tbody><tr><td><strong>${label}</strong></td>${figureCells(report.total)}</tr></tbody>
    </table></div>
    <p class="muted">Allocated: the GPUs a job holds from the start to the end of each attempt, a memory slice or MIG device
    counted as its share of the GPU's memory. Used: the held GPUs' utilization over the sampler's rounds; utilization is used
    over the allocated time the sampler measured (a MIG device's is unknown). CPU and memory: what the job's containers used.</p>
  </div>`;
}

/** GPU-hours allocated and used, CPU- and memory-hours per project, user or day, for a range of UTC days. */
export function usagePage(props: LayoutProps & { report: UsageReport }): Html {
  const { report } = props;
  return layout(
    props,
    html`<h1>Usage</h1>
    <div class="panel">${rangeForm(report)}</div>
    ${report.groups.length
      ? html`${summary(report)}${report.groups.map((group) => groupPanel(group, report.by))}`
      : html`<div class="panel"><p class="empty">No GPU time or sampled use from ${report.from} to ${report.to} that you may see.</p></div>`}`,
  );
}
