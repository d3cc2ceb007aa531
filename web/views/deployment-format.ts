import { formatBytes } from '../../src/lib/byte-size.ts';
import type { DeploymentJson } from '../../src/serving/deployment-json.ts';
import type { DeploymentState } from '../../src/serving/deployments.ts';
import type { DeploymentMetrics } from '../../src/serving/serving-metrics.ts';
import { html, type Html } from './html.ts';

/** A deployment as the pages show it: what the API answers, with the model's name and its traffic. */
export interface DeploymentRow {
  deployment: DeploymentJson;
  /** The registered model it serves, for the link to the version's page. */
  modelName: string;
  metrics: DeploymentMetrics;
}

const STATE_BADGES: Record<DeploymentState, string> = {
  pending: '',
  starting: 'accent',
  ready: 'ok',
  degraded: 'warn',
  stopped: '',
  failed: 'danger',
};

/** How often an open deployment page asks for its details again. */
export const DEPLOYMENT_REFRESH = '5s';

export const deploymentHref = (name: string) => `/deployments/${name}`;

export function deploymentStateBadge(state: DeploymentState): Html {
  return html`<span class="badge ${STATE_BADGES[state]}" data-state="${state}">${state}</span>`;
}

export function deploymentLink(name: string): Html {
  return html`<a href="${deploymentHref(name)}"><strong>${name}</strong></a>`;
}

/** Milliseconds as a reader compares them: `0.8 ms`, `42 ms`, `1.25 s`; a dash before the first call. */
export function formatLatency(ms: number | null): string {
  if (ms === null) return '—';
  if (ms < 10) return `${Number(ms.toFixed(1))} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${Number((ms / 1000).toFixed(2))} s`;
}

/** Calls per second, with two significant digits below ten. */
export function formatRate(perSecond: number): string {
  return `${perSecond < 10 ? Number(perSecond.toPrecision(2)) : Math.round(perSecond)}/s`;
}

/** What each replica gets: "1 GPU · 2 CPUs · 1.0 GB memory", or "CPU only, no limits". */
export function replicaResources({ resources }: DeploymentJson): string {
  const { gpus, gpuMemory, cpus, memory } = resources;
  const parts: string[] = [];
  if (gpuMemory !== null) parts.push(`${formatBytes(gpuMemory)} of one GPU`);
  else if (gpus > 0) parts.push(`${gpus} GPU${gpus === 1 ? '' : 's'}`);
  if (cpus !== null) parts.push(`${cpus} CPU${cpus === 1 ? '' : 's'}`);
  if (memory !== null) parts.push(`${formatBytes(memory)} memory`);
  return parts.length ? parts.join(' · ') : 'CPU only, no limits';
}
