import type { SERIES_FIELDS, SeriesSubject } from '../../src/monitoring/series.ts';
import { html, raw, type Html } from './html.ts';

/** How far back a resource chart looks; older points drop off its left edge as new ones arrive. */
export const CHART_WINDOW_MS = 60 * 60_000;

/** How resource-charts.js scales, labels and formats a line: each unit gets an axis of its own. */
type ChartUnit = 'percent' | 'celsius' | 'watts' | 'bytes' | 'bytesPerSecond' | 'cores' | 'load';

type FieldOf<K extends SeriesSubject['kind']> = (typeof SERIES_FIELDS)[K][number];

/** One line of a chart: a field of the subject's series, or, with `per`, that field as a percentage of another. */
export interface ChartLine<K extends SeriesSubject['kind'] = SeriesSubject['kind']> {
  field: FieldOf<K>;
  label: string;
  unit: ChartUnit;
  per?: FieldOf<K>;
}

export interface ChartSpec {
  subject: SeriesSubject;
  title: string;
  lines: readonly ChartLine[];
}

/** A point of one subject's series as a sampler round gives it, keyed by the series' field names. */
export interface ChartPoint {
  subject: string;
  at: number;
  values: Record<string, number | null>;
}

/** A subject as the series API and the live channel name it: `gpu:<uuid>`, `host`, `job:12`, `deployment:3`. */
export function subjectText(subject: SeriesSubject): string {
  switch (subject.kind) {
    case 'gpu':
      return `gpu:${subject.uuid}`;
    case 'host':
      return 'host';
    case 'job':
      return `job:${subject.jobId}`;
    case 'deployment':
      return `deployment:${subject.deploymentId}`;
  }
}

const seriesUrl = (subject: SeriesSubject) => `/api/v1/monitoring/series?subject=${encodeURIComponent(subjectText(subject))}`;

/** The live feed that pushes a subject's new points (the GPU page's `gpus` feed covers every GPU, a job's `job` feed its container). */
export const seriesFeedName = (subject: SeriesSubject) => `series:${subjectText(subject)}`;

/**
 * A chart that resource-charts.js draws from the series API (the last hour) and extends with each point pushed
 * over the live channel; the reading above it shows the newest values.
 */
export function resourceChart({ subject, title, lines }: ChartSpec): Html {
  const spec = { subject: subjectText(subject), url: seriesUrl(subject), windowMs: CHART_WINDOW_MS, lines };
  return html`<figure class="resource-chart" data-resource-chart="${JSON.stringify(spec)}">
    <figcaption><strong>${title}</strong> <span class="chart-reading muted">waiting for samples…</span></figcaption>
    <div class="chart-plot"></div>
  </figure>`;
}

/**
 * New points as one live message. It is JSON without a `content` field, which hx-ws swaps nowhere and hands to
 * its message event, where resource-charts.js appends the points to the charts of their subjects.
 */
export function chartPointsMessage(points: readonly ChartPoint[]): Html {
  return raw(JSON.stringify({ points }));
}

const percentOf = <K extends SeriesSubject['kind']>(field: FieldOf<K>, per: FieldOf<K>, label: string): ChartLine<K> => ({ field, per, label, unit: 'percent' });

export const GPU_CHART_LINES: ReadonlyArray<ChartLine<'gpu'>> = [
  { field: 'utilization', label: 'Utilization', unit: 'percent' },
  percentOf<'gpu'>('memoryUsed', 'memoryTotal', 'Memory'),
  { field: 'temperature', label: 'Temperature', unit: 'celsius' },
  { field: 'powerDraw', label: 'Power', unit: 'watts' },
];

/** The host page's charts: processor, memory and disk, network. */
export const HOST_CHARTS: ReadonlyArray<{ title: string; lines: ReadonlyArray<ChartLine<'host'>> }> = [
  {
    title: 'CPU and load',
    lines: [
      { field: 'cpu', label: 'CPU', unit: 'percent' },
      { field: 'load1', label: 'Load (1 min)', unit: 'load' },
    ],
  },
  {
    title: 'Memory and disk',
    lines: [percentOf<'host'>('memoryUsed', 'memoryTotal', 'Memory'), percentOf<'host'>('diskUsed', 'diskTotal', 'Data disk')],
  },
  {
    title: 'Network',
    lines: [
      { field: 'netRxBytesPerSecond', label: 'Received', unit: 'bytesPerSecond' },
      { field: 'netTxBytesPerSecond', label: 'Sent', unit: 'bytesPerSecond' },
    ],
  },
];

/** A job's or a deployment's containers: cores, memory, and the GPU memory their processes hold. */
const USAGE_CHART_LINES: ReadonlyArray<ChartLine<'job' | 'deployment'>> = [
  { field: 'cpu', label: 'CPU', unit: 'cores' },
  { field: 'memoryBytes', label: 'Memory', unit: 'bytes' },
  { field: 'gpuMemoryBytes', label: 'GPU memory', unit: 'bytes' },
];

/** The resources panel of a job's or a deployment's page. */
export function usagePanel(subject: Extract<SeriesSubject, { kind: 'job' | 'deployment' }>, note: string): Html {
  return html`<div class="panel" id="resource-usage">
    <h2>Resources <span class="muted">— last hour${note ? ` · ${note}` : ''}</span></h2>
    ${resourceChart({ subject, title: subject.kind === 'job' ? 'Container' : 'All replicas', lines: USAGE_CHART_LINES })}
  </div>`;
}
