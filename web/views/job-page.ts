import { formatBytes } from '../../src/lib/byte-size.ts';
import type { JobEventRecord, JobRecord } from '../../src/scheduler/jobs.ts';
import { layout, type LayoutProps } from './layout.ts';
import { formatTime, html, type Html } from './html.ts';
import { formatGpuSeconds, heldGpus, jobStateBadge, ran, resourcesAsked, waited, type GpuLabels } from './job-format.ts';
import { jobLogPanel, type LogTail } from './job-log.ts';
import { postForm, type Editing } from './model-forms.ts';
import { usagePanel } from './resource-chart.ts';

export interface JobDetail {
  job: JobRecord;
  user: string;
  project: string;
  events: JobEventRecord[];
  gpuLabels: GpuLabels;
  now: number;
  /** Present for the project's editors, who may cancel. */
  editing: Editing | undefined;
}

const row = (label: string, value: Html | string) => html`<tr><th>${label}</th><td>${value}</td></tr>`;

function formatLimit(ms: number | null): string {
  if (ms === null) return 'none';
  const minutes = Math.round(ms / 60_000);
  return minutes < 60 ? `${Math.max(1, minutes)}m` : `${Math.floor(minutes / 60)}h${minutes % 60 ? ` ${minutes % 60}m` : ''}`;
}

function commandLine(command: readonly string[]): Html {
  return html`<ol class="argv">${command.map((argument) => html`<li><code>${argument}</code></li>`)}</ol>`;
}

function environment(env: Record<string, string>): Html {
  const names = Object.keys(env);
  if (names.length === 0) return html`<span class="muted">none set</span>`;
  return html`${names.map((name) => html`<div class="mono">${name}=${env[name]}</div>`)}`;
}

function cancelSection({ job, editing }: JobDetail): Html {
  if (!editing || !['queued', 'starting', 'running'].includes(job.state)) return html``;
  if (job.cancelRequestedAt !== null) return html`<p class="muted">Cancel requested ${formatTime(job.cancelRequestedAt)}; the container is being stopped.</p>`;
  return postForm(
    `/jobs/${job.id}/cancel`,
    editing,
    html`<button class="danger" type="submit">Cancel job</button>`,
    { target: '#job-summary', className: 'inline', confirm: `Cancel job ${job.id} (${job.name})? A running job is stopped.` },
  );
}

function details(detail: JobDetail): Html {
  const { job, now } = detail;
  return html`<div class="panel">
    <h2>Job</h2>
    <table class="details"><tbody>
      ${row('Project', html`<a href="/projects/${detail.project}">${detail.project}</a>`)}
      ${row('User', detail.user)}
      ${row('Image', html`<code>${job.image}</code>`)}
      ${row('Command', commandLine(job.command))}
      ${row('Environment', environment(job.env))}
      ${row('Asked for', resourcesAsked(job))}
      ${row('GPUs held', heldGpus(job.gpuUuids, detail.gpuLabels))}
      ${row('Priority', `${job.priority}${job.preemptible ? ' · preemptible' : ''}`)}
      ${row('Time limit', formatLimit(job.timeLimitMs))}
      ${row('Attempts', `${job.attempts} of at most ${job.maxRetries + 1}`)}
      ${row('Submitted', formatTime(job.submittedAt))}
      ${row('Started', formatTime(job.startedAt))}
      ${row('Finished', formatTime(job.finishedAt))}
      ${row('Waited · ran', `${waited(job, now)} · ${ran(job, now)}`)}
      ${row('Exit code', job.exitCode === null ? '—' : html`<span class="mono">${job.exitCode}</span>`)}
      ${row('GPU time', formatGpuSeconds(job.gpuSeconds))}
      ${job.mlflowRunId ? row('MLflow run', html`<a href="/runs/${job.mlflowRunId}" class="mono">${job.mlflowRunId}</a>`) : ''}
      ${job.containerId ? row('Container', html`<span class="mono">${job.containerId.slice(0, 12)}</span>`) : ''}
      ${job.gpuMemory !== null && job.gpuUuids.length ? row('GPU memory', `${formatBytes(job.gpuMemory)} reserved`) : ''}
    </tbody></table>
  </div>`;
}

function timeline(events: readonly JobEventRecord[]): Html {
  return html`<div class="panel">
    <h2>Events</h2>
    <ol class="timeline">
      ${events.map(
        (event) => html`<li>
          <time>${formatTime(event.at)}</time>
          <span>${event.fromState ? html`${event.fromState.replace('_', ' ')} → ` : ''}${jobStateBadge(event.toState)}</span>
          ${event.reason ? html`<div class="reason">${event.reason}</div>` : ''}
        </li>`,
      )}
    </ol>
  </div>`;
}

/** Everything but the log: what a state change re-renders. */
export function jobSummary(detail: JobDetail): Html {
  const { job } = detail;
  return html`<div id="job-summary">
    <div class="job-head">
      <h1>Job ${job.id} <span class="muted">· ${job.name}</span> ${jobStateBadge(job.state)}</h1>
      ${cancelSection(detail)}
    </div>
    ${job.reason ? html`<p class="job-reason">${job.reason}</p>` : ''}
    <div class="job-grid">${details(detail)}${timeline(detail.events)}</div>
  </div>`;
}

export function jobSummaryPartial(detail: JobDetail): Html {
  return html`<hx-partial hx-target="#job-summary" hx-swap="outerHTML">${jobSummary(detail)}</hx-partial>`;
}

export function jobPage(props: LayoutProps & { detail: JobDetail; log: LogTail; followed: boolean }): Html {
  const { job } = props.detail;
  // A job that ended without starting never had a container to chart.
  const usage = props.followed || job.startedAt !== null ? usagePanel({ kind: 'job', jobId: job.id }, props.followed ? 'live while the job runs' : '') : '';
  return layout(props, html`<p class="crumbs"><a href="/jobs">Jobs</a> / ${job.id}</p>${jobSummary(props.detail)}${jobLogPanel(props.log, props.followed)}${usage}`);
}
