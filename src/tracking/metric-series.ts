import { invalidParameterValue } from '../lib/errors.ts';
import { lttb } from '../lib/downsample.ts';
import type { Caller } from './access.ts';
import type { MetricColumns } from './metric-series-queries.ts';
import type { RunLookup } from './run-lookup.ts';

/** A metric's history shrunk for a chart; non-finite values are null, as JSON has no NaN. */
export interface MetricSeries {
  key: string;
  total: number;
  steps: number[];
  values: Array<number | null>;
}

const SERIES_POINTS_DEFAULT = 1000;
const SERIES_POINTS_MAX = 5000;

/**
 * The dashboard's chart data: the history, or for a long one its rollups' first, min, max and last points of each
 * bucket, downsampled with LTTB so its shape survives.
 */
export function createMetricSeries(deps: { lookup: RunLookup; readMetricColumns: (runUuid: string, key: string, points: number) => MetricColumns }) {
  return function series(caller: Caller, runId: string, key: string, points: number = SERIES_POINTS_DEFAULT): MetricSeries {
    if (!Number.isSafeInteger(points) || points < 3 || points > SERIES_POINTS_MAX) {
      throw invalidParameterValue(`points must be an integer between 3 and ${SERIES_POINTS_MAX}`);
    }
    const run = deps.lookup.find(caller.user, runId, 'viewer');
    const { steps, values, total } = deps.readMetricColumns(run.runUuid, key, points);
    const kept = lttb(steps, values, points);
    return {
      key,
      total,
      steps: kept.map((index) => steps[index]!),
      values: kept.map((index) => (Number.isFinite(values[index]) ? values[index]! : null)),
    };
  };
}
