import { html, type Html } from './html.ts';

const STATUS_BADGES: Record<string, string> = { FINISHED: 'ok', RUNNING: 'accent', SCHEDULED: '', FAILED: 'danger', KILLED: 'warn' };

export function statusBadge(status: string): Html {
  return html`<span class="badge ${STATUS_BADGES[status] ?? ''}">${status}</span>`;
}

/** How long a run took, or has been going; a dash when it never started. */
export function formatDuration(start: number | undefined, end: number | undefined, now: number): string {
  if (start === undefined) return '—';
  const seconds = Math.max(0, Math.round(((end ?? now) - start) / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${seconds % 60}s`;
  return `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
}

/** A metric value as MLflow's JSON carries it (NaN and the infinities as text), shortened for a table cell. */
export function formatMetric(value: number | string | undefined): string {
  if (value === undefined) return '';
  return typeof value === 'number' ? String(Number(value.toPrecision(6))) : value;
}

/** A two-column table of keys and values, or the empty note. */
export function keyValueTable(rows: Array<{ key: string; value: string }>, empty: string): Html {
  if (rows.length === 0) return html`<p class="empty">${empty}</p>`;
  return html`<table>
    <tbody>${rows.map(({ key, value }) => html`<tr><td class="mono">${key}</td><td class="mono">${value}</td></tr>`)}</tbody>
  </table>`;
}
