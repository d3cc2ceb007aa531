import { formatBytes } from '../../src/lib/byte-size.ts';
import type { JobRecord, JobState } from '../../src/scheduler/jobs.ts';
import { html, type Html } from './html.ts';
import { formatDuration } from './run-format.ts';

/** A job as the tables show it: the record with its owner's and project's names. */
export interface JobRow {
  job: JobRecord;
  user: string;
  project: string;
}

/** How the pages name a GPU or MIG device by UUID ("GPU 0", "GPU 1 · MIG 2"); unknown UUIDs show shortened. */
export type GpuLabels = ReadonlyMap<string, string>;

const STATE_BADGES: Record<JobState, string> = {
  queued: '',
  starting: 'accent',
  running: 'accent',
  succeeded: 'ok',
  failed: 'danger',
  cancelled: 'warn',
  timed_out: 'danger',
  lost: 'danger',
};
export const JOB_STATE_NAMES = Object.keys(STATE_BADGES) as JobState[];

export const jobHref = (id: number) => `/jobs/${id}`;
export const gpuHref = (uuid: string) => `/gpus#gpu-${uuid}`;

export function jobStateBadge(state: JobState): Html {
  return html`<span class="badge ${STATE_BADGES[state]}" data-state="${state}">${state.replace('_', ' ')}</span>`;
}

/** What a job asked for in GPUs: "2 GPUs", "20.0 GB of one GPU", or a dash for a CPU job. */
export function gpusAsked(job: JobRecord): string {
  if (job.gpuMemory !== null) return `${formatBytes(job.gpuMemory)} of one GPU`;
  if (job.gpus > 0) return `${job.gpus} GPU${job.gpus === 1 ? '' : 's'}`;
  return '—';
}

/** Everything a job asked for, in one line: "2 GPUs · 8 CPUs · 32.0 GB memory". */
export function resourcesAsked(job: JobRecord): string {
  const parts = [gpusAsked(job)].filter((part) => part !== '—');
  if (job.cpus !== null) parts.push(`${job.cpus} CPU${job.cpus === 1 ? '' : 's'}`);
  if (job.memory !== null) parts.push(`${formatBytes(job.memory)} memory`);
  return parts.length ? parts.join(' · ') : 'CPU only, no limits';
}

const orUndefined = (value: number | null) => value ?? undefined;

/** From submission until it started (or ended without starting), or until now while it waits. */
export const waited = (job: JobRecord, now: number) => formatDuration(job.submittedAt, orUndefined(job.startedAt ?? job.finishedAt), now);

/** From start to end, or until now while it runs; a dash when it never started. */
export const ran = (job: JobRecord, now: number) => formatDuration(orUndefined(job.startedAt), orUndefined(job.finishedAt), now);

/** A time of day in UTC to the second, `12:04:09`: for log lines and readings that change by the second. */
export const formatClock = (ms: number) => new Date(ms).toISOString().slice(11, 19);

/** Allocated GPU time: seconds for short jobs, hours beyond an hour. */
export function formatGpuSeconds(seconds: number): string {
  if (seconds <= 0) return '—';
  return seconds < 3600 ? `${Math.round(seconds)} GPU-s` : `${(seconds / 3600).toFixed(1)} GPU-h`;
}

/** The GPUs a job holds, each a link to its card on the GPU board. */
export function heldGpus(uuids: readonly string[], labels: GpuLabels): Html {
  if (uuids.length === 0) return html`<span class="muted">—</span>`;
  return html`${uuids.map(
    (uuid, index) => html`${index ? ', ' : ''}<a href="${gpuHref(uuid)}" title="${uuid}">${labels.get(uuid) ?? uuid.slice(0, 12)}</a>`,
  )}`;
}

/** The job's id and name, linked to its page. */
export function jobLink(job: Pick<JobRecord, 'id' | 'name'>): Html {
  return html`<a href="${jobHref(job.id)}"><strong>#${job.id}</strong> <span class="job-name">${job.name}</span></a>`;
}
