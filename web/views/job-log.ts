import type { JobLogLine } from '../../src/scheduler/job-logs.ts';
import { html, type Html } from './html.ts';
import { formatClock } from './job-format.ts';

/** The browser keeps at most this many lines of a log; the server never sends more at once. */
export const LOG_LINES_SHOWN = 2000;

/** The last lines of a log and how many came before them. */
export interface LogTail {
  lines: JobLogLine[];
  skipped: number;
}

/** What the page shows of a log: its last lines (as `JobLogs.tail` reads them) and how many come before. */
export function logTail({ total, lines }: { total: number; lines: readonly JobLogLine[] }): LogTail {
  const shown = lines.slice(-LOG_LINES_SHOWN);
  return { lines: shown, skipped: total - shown.length };
}

function logLines({ lines, skipped }: LogTail): Html {
  return html`${skipped ? html`<div class="log-line system">… ${skipped} earlier line${skipped === 1 ? '' : 's'} not shown</div>` : ''}${lines.map(
    (line) => html`<div class="log-line ${line.stream}"><time>${formatClock(line.time)}</time>${line.text}</div>`,
  )}`;
}

/**
 * The log box. A followed log (a job that may still print) keeps itself scrolled to its end unless the reader
 * scrolled up, and drops its oldest lines beyond the cap (app.js).
 */
export function jobLogPanel(tail: LogTail, followed: boolean): Html {
  return html`<div class="panel">
    <h2>Log ${followed ? html`<span class="muted">— updates live while the job runs</span>` : ''}</h2>
    <div class="job-log"${followed ? html` data-follow data-cap="${LOG_LINES_SHOWN}"` : ''}>
      <div id="job-log-lines">${logLines(tail)}</div>
      ${tail.lines.length === 0 && tail.skipped === 0 ? html`<p class="empty log-empty">No output yet.</p>` : ''}
    </div>
  </div>`;
}

/** The whole tail again: sent when a live socket opens, so lines printed before it opened are not missed. */
export function logReplacePartial(tail: LogTail): Html {
  return html`<hx-partial hx-target="#job-log-lines" hx-swap="innerHTML">${logLines(tail)}</hx-partial>`;
}

/** New lines at the end of the log. */
export function logAppendPartial(tail: LogTail): Html {
  return html`<hx-partial hx-target="#job-log-lines" hx-swap="beforeend">${logLines(tail)}</hx-partial>`;
}
