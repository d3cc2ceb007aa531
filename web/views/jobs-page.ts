import type { JobState } from '../../src/scheduler/jobs.ts';
import { layout, type LayoutProps } from './layout.ts';
import { formatTime, html, type Html } from './html.ts';
import { JOB_STATE_NAMES, formatGpuSeconds, gpusAsked, heldGpus, jobLink, jobStateBadge, ran, waited, type GpuLabels, type JobRow } from './job-format.ts';
import { jobSubmitForm, type SubmitForm } from './job-submit-form.ts';

export interface JobFilter {
  project: string | undefined;
  /** Only the viewer's own jobs. */
  mine: boolean;
  state: JobState | undefined;
  /** History page: finished jobs with ids below this one. */
  before: number | undefined;
}

export interface JobTables {
  filter: JobFilter;
  /** Queued, starting and running jobs: running first, then by priority, oldest first. */
  queue: JobRow[];
  /** More active jobs exist than the queue shows. */
  queueTruncated: boolean;
  /** Finished jobs, newest first. */
  history: JobRow[];
  /** The `before` of the next history page, when there is one. */
  olderThan: number | undefined;
  gpuLabels: GpuLabels;
  now: number;
}

/** The filter as a query string (without `?`), for links, the form's action and the live feed. */
export function jobFilterQuery(filter: JobFilter): string {
  const search = new URLSearchParams();
  if (filter.project) search.set('project', filter.project);
  if (filter.mine) search.set('mine', '1');
  if (filter.state) search.set('state', filter.state);
  if (filter.before !== undefined) search.set('before', String(filter.before));
  return search.toString();
}

const jobsHref = (query: string) => `/jobs${query ? `?${query}` : ''}`;

function queueTable(tables: JobTables): Html {
  const { queue, gpuLabels, now } = tables;
  if (queue.length === 0) return html`<p class="empty">Nothing is waiting or running${tables.filter.state || tables.filter.project || tables.filter.mine ? ' that matches' : ''}.</p>`;
  return html`<div class="table-scroll"><table class="jobs">
    <thead><tr><th>Job</th><th>State</th><th class="number">Priority</th><th>GPUs asked</th><th>Held</th><th>User</th><th>Project</th><th>Waited</th><th>Ran</th></tr></thead>
    <tbody>
    ${queue.map(
      ({ job, user, project }) => html`<tr id="job-${job.id}">
        <td class="clip">${jobLink(job)}</td>
        <td>${jobStateBadge(job.state)}${job.state === 'queued' && job.reason ? html`<div class="reason">${job.reason}</div>` : ''}</td>
        <td class="number">${job.priority}</td>
        <td class="nowrap">${gpusAsked(job)}</td>
        <td class="nowrap">${heldGpus(job.gpuUuids, gpuLabels)}</td>
        <td>${user}</td>
        <td><a href="/projects/${project}">${project}</a></td>
        <td class="nowrap">${waited(job, now)}</td>
        <td class="nowrap">${ran(job, now)}</td>
      </tr>`,
    )}
    </tbody>
  </table></div>
  ${tables.queueTruncated ? html`<p class="muted">Showing the first ${queue.length} active jobs.</p>` : ''}`;
}

function historyTable(tables: JobTables): Html {
  const { history, filter, now } = tables;
  return html`${history.length
      ? html`<div class="table-scroll"><table class="jobs">
          <thead><tr><th>Job</th><th>State</th><th class="number">Exit</th><th>User</th><th>Project</th><th>Waited</th><th>Ran</th><th class="number">GPU time</th><th>Finished</th></tr></thead>
          <tbody>
          ${history.map(
            ({ job, user, project }) => html`<tr id="job-${job.id}">
              <td class="clip">${jobLink(job)}</td>
              <td>${jobStateBadge(job.state)}${job.state !== 'succeeded' && job.reason ? html`<div class="reason">${job.reason}</div>` : ''}</td>
              <td class="number mono">${job.exitCode ?? '—'}</td>
              <td>${user}</td>
              <td><a href="/projects/${project}">${project}</a></td>
              <td class="nowrap">${waited(job, now)}</td>
              <td class="nowrap">${ran(job, now)}</td>
              <td class="number nowrap">${formatGpuSeconds(job.gpuSeconds)}</td>
              <td class="nowrap">${formatTime(job.finishedAt)}</td>
            </tr>`,
          )}
          </tbody>
        </table></div>`
      : html`<p class="empty">No finished jobs${filter.before !== undefined ? ' on this page' : ''}.</p>`}
    ${filter.before !== undefined || tables.olderThan !== undefined
      ? html`<div class="pager">
          ${filter.before !== undefined ? html`<a href="${jobsHref(jobFilterQuery({ ...filter, before: undefined }))}">← Newest</a>` : ''}
          ${tables.olderThan !== undefined ? html`<a href="${jobsHref(jobFilterQuery({ ...filter, before: tables.olderThan }))}">Older →</a>` : ''}
        </div>`
      : ''}`;
}

/** The queue and the history; also what the live channel re-sends when jobs change. */
export function jobTables(tables: JobTables): Html {
  return html`<div id="job-tables">
    <div class="panel" id="job-queue"><h2>Queue</h2>${queueTable(tables)}</div>
    <div class="panel" id="job-history"><h2>History</h2>${historyTable(tables)}</div>
  </div>`;
}

export function jobTablesPartial(tables: JobTables): Html {
  return html`<hx-partial hx-target="#job-tables" hx-swap="outerHTML">${jobTables(tables)}</hx-partial>`;
}

/** What a submit from the form answers: the tables, and a line naming the new job. */
export function jobSubmitted(tables: JobTables, job: { id: number; name: string }): Html {
  return html`${jobTables(tables)}<hx-partial hx-target="#submit-result" hx-swap="innerHTML"><div class="flash ok" role="status">Queued ${jobLink(job)}.</div></hx-partial>`;
}

function filterForm(filter: JobFilter, projects: readonly string[]): Html {
  return html`<form class="inline" method="get" action="/jobs">
    <label>Project <select name="project">
      <option value="">all</option>
      ${projects.map((name) => html`<option value="${name}"${name === filter.project ? ' selected' : ''}>${name}</option>`)}
    </select></label>
    <label>State <select name="state">
      <option value="">any</option>
      ${JOB_STATE_NAMES.map((state) => html`<option value="${state}"${state === filter.state ? ' selected' : ''}>${state.replace('_', ' ')}</option>`)}
    </select></label>
    <label class="check"><input type="checkbox" name="mine" value="1"${filter.mine ? ' checked' : ''}> only mine</label>
    <button type="submit">Filter</button>
  </form>`;
}

export function jobsPage(props: LayoutProps & { tables: JobTables; projects: readonly string[]; submit: SubmitForm | undefined }): Html {
  return layout(
    props,
    html`<h1>Jobs <span class="muted">— updates live</span></h1>
    <div class="panel">${filterForm(props.tables.filter, props.projects)}</div>
    ${props.submit ? jobSubmitForm(props.submit, jobsHref(jobFilterQuery(props.tables.filter))) : ''}
    ${jobTables(props.tables)}`,
  );
}
