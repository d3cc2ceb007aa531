import type { MetricPoint } from './metric-queries.ts';

/**
 * Rollups of a metric's history (the `metric_buckets` table): per range of 256 steps, the count, the first and last
 * points in history order and the finite min and max with their steps. Ingest folds each batch into buckets here
 * and upserts them with the same rules in SQL; a chart reads the buckets back as their first, min, max and last
 * points (M4), which keeps every spike and both ends, and shrinks that with LTTB.
 */

const BUCKET_STEPS = 256;
/** The bucket holding `step`: SQLite's arithmetic `step >> 8`, negative steps included. */
export const bucketOf = (step: number) => Math.floor(step / BUCKET_STEPS);

/** One bucket as it is upserted. No finite value leaves `minValue`/`maxValue` and their steps NaN, bound as NULL. */
export interface MetricBucket {
  bucket: number;
  count: number;
  firstStep: number;
  firstTimestamp: number;
  firstValue: number;
  lastStep: number;
  lastTimestamp: number;
  lastValue: number;
  minValue: number;
  minValueStep: number;
  maxValue: number;
  maxValueStep: number;
}

/** Up to this many points a chart reads the whole history: it is fast, and exact. */
const EXACT_MAX_POINTS = 20_000;
/** A chart needs a bucket for every two of its points, as each bucket gives up to four... */
const CHART_POINTS_PER_BUCKET = 2;
/** ...whose rows are worth reading when they hold this many points on average (a row costs more than a point)... */
const POINTS_PER_BUCKET_AT_LEAST = 8;
/** ...and when there are no more than this many. */
export const CHART_BUCKETS_MAX = 100_000;

function pointBucket(point: MetricPoint, bucket: number): MetricBucket {
  const finite = Number.isFinite(point.value);
  const extreme = finite ? point.value : Number.NaN;
  const extremeStep = finite ? point.step : Number.NaN;
  return {
    bucket,
    count: 1,
    firstStep: point.step,
    firstTimestamp: point.timestamp,
    firstValue: point.value,
    lastStep: point.step,
    lastTimestamp: point.timestamp,
    lastValue: point.value,
    minValue: extreme,
    minValueStep: extremeStep,
    maxValue: extreme,
    maxValueStep: extremeStep,
  };
}

/**
 * Adds one point, logged after those already added, to one metric's buckets. Ties keep history order: the first
 * point stays the earlier logged, the last becomes the later logged; min and max ties go to the lower step. The
 * upsert in metric-queries.ts and the backfill in the migration apply the same rules.
 */
export function addToBuckets(buckets: Map<number, MetricBucket>, point: MetricPoint): void {
  const index = bucketOf(point.step);
  const bucket = buckets.get(index);
  if (!bucket) {
    buckets.set(index, pointBucket(point, index));
    return;
  }
  const { step, timestamp, value } = point;
  bucket.count++;
  if (step < bucket.firstStep || (step === bucket.firstStep && timestamp < bucket.firstTimestamp)) {
    bucket.firstStep = step;
    bucket.firstTimestamp = timestamp;
    bucket.firstValue = value;
  }
  if (step > bucket.lastStep || (step === bucket.lastStep && timestamp >= bucket.lastTimestamp)) {
    bucket.lastStep = step;
    bucket.lastTimestamp = timestamp;
    bucket.lastValue = value;
  }
  if (!Number.isFinite(value)) return;
  if (Number.isNaN(bucket.minValue) || value < bucket.minValue || (value === bucket.minValue && step < bucket.minValueStep)) {
    bucket.minValue = value;
    bucket.minValueStep = step;
  }
  if (Number.isNaN(bucket.maxValue) || value > bucket.maxValue || (value === bucket.maxValue && step < bucket.maxValueStep)) {
    bucket.maxValue = value;
    bucket.maxValueStep = step;
  }
}

/**
 * Whether a chart of `points` points is drawn from a metric's `buckets` rather than its whole history of `total`
 * points: for a long history whose buckets are enough for the chart and much fewer than its points. Sparse steps
 * (a bucket or two of points each) and crowded ones (many points a step) read the history.
 */
export function chartsFromBuckets(total: number, buckets: number, points: number): boolean {
  return (
    total > EXACT_MAX_POINTS &&
    buckets <= CHART_BUCKETS_MAX &&
    buckets * CHART_POINTS_PER_BUCKET >= points &&
    buckets * POINTS_PER_BUCKET_AT_LEAST <= total
  );
}

/** A bucket as read for a chart: first step and value, min step and value, max step and value, last step and value. */
export type ChartBucket = [number, number | null, number | null, number | null, number | null, number | null, number, number | null];

/**
 * Each bucket's first, min, max and last points in step order (M4), as columns; a point the same as the one
 * before it is not repeated. NULL (NaN) first or last values stay NaN, so a gap in the data stays a gap in the chart.
 */
export function chartColumns(buckets: ChartBucket[]): { steps: Float64Array; values: Float64Array } {
  const steps = new Float64Array(buckets.length * 4);
  const values = new Float64Array(buckets.length * 4);
  let length = 0;
  const push = (step: number, value: number) => {
    const previous = length - 1;
    if (length > 0 && steps[previous] === step && Object.is(values[previous], value)) return;
    steps[length] = step;
    values[length++] = value;
  };
  for (const [firstStep, firstValue, minStep, minValue, maxStep, maxValue, lastStep, lastValue] of buckets) {
    push(firstStep, firstValue ?? Number.NaN);
    if (minStep !== null && maxStep !== null) {
      const minFirst = minStep <= maxStep;
      push(minFirst ? minStep : maxStep, (minFirst ? minValue : maxValue)!);
      push(minFirst ? maxStep : minStep, (minFirst ? maxValue : minValue)!);
    }
    push(lastStep, lastValue ?? Number.NaN);
  }
  return { steps: steps.subarray(0, length), values: values.subarray(0, length) };
}
