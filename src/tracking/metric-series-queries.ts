import type { Db } from '../db/connection.ts';
import { CHART_BUCKETS_MAX, chartColumns, chartsFromBuckets, type ChartBucket } from './metric-rollup.ts';

/**
 * What a chart of one metric is drawn from, as two parallel columns in step order (NaN, stored as NULL, stays NaN):
 * its whole history, or for a long one its rollup buckets' first, min, max and last points. `total` counts every
 * point logged either way.
 */
export interface MetricColumns {
  steps: Float64Array;
  values: Float64Array;
  total: number;
}

interface Columns {
  steps: Float64Array;
  values: Float64Array;
  length: number;
}

function append(columns: Columns, step: number, value: number | null): void {
  if (columns.length === columns.steps.length) grow(columns);
  columns.steps[columns.length] = step;
  columns.values[columns.length++] = value ?? Number.NaN;
}

function grow(columns: Columns): void {
  for (const name of ['steps', 'values'] as const) {
    const bigger = new Float64Array(columns.length * 2);
    bigger.set(columns[name]);
    columns[name] = bigger;
  }
}

/**
 * A short history is read straight into typed arrays through an aggregate that SQLite feeds row by row: a million
 * points as row arrays (or as the MLflow history's JSON) cost several times more than the chart they become.
 * The aggregate hands back one BLOB: the steps, then the values, as doubles. A long one is read from its rows in
 * `metric_buckets`, when metric-rollup.ts says they serve the chart.
 */
function prepare(db: Db) {
  db.$client.aggregate('trainyard_metric_columns', {
    start: (): Columns => ({ steps: new Float64Array(1024), values: new Float64Array(1024), length: 0 }),
    // The typings allow one argument per row; SQLite passes both columns.
    step: append as unknown as (columns: Columns, next: Columns) => void,
    result: (columns: Columns) =>
      Buffer.concat([
        Buffer.from(columns.steps.buffer, 0, columns.length * 8),
        Buffer.from(columns.values.buffer, 0, columns.length * 8),
      ]),
  });
  const client = db.$client;
  return {
    history: client
      .prepare(
        `SELECT trainyard_metric_columns(step, value) FROM
           (SELECT step, value FROM metrics WHERE run_uuid = ? AND key = ? ORDER BY step, timestamp, rowid)`,
      )
      .pluck(),
    // Up to one past the most a chart reads. Both go through the (run, key, bucket) index by name: the planner
    // would rather walk the primary key's (run, bucket, key) order, every key of the run, to skip a sort.
    summary: client
      .prepare(
        `SELECT count(*), ifnull(sum(count), 0) FROM (SELECT count FROM metric_buckets INDEXED BY metric_buckets_series_idx
           WHERE run_uuid = ? AND key = ? LIMIT ${CHART_BUCKETS_MAX + 1})`,
      )
      .raw(),
    buckets: client
      .prepare(
        `SELECT first_step, first_value, min_value_step, min_value, max_value_step, max_value, last_step, last_value
           FROM metric_buckets INDEXED BY metric_buckets_series_idx WHERE run_uuid = ? AND key = ? ORDER BY bucket`,
      )
      .raw(),
  };
}

export function createMetricSeriesQueries(db: Db) {
  let prepared: ReturnType<typeof prepare> | undefined;

  return function readMetricColumns(runUuid: string, key: string, points: number): MetricColumns {
    const statements = (prepared ??= prepare(db));
    const [buckets, total] = statements.summary.get(runUuid, key) as [number, number];
    if (chartsFromBuckets(total, buckets, points)) return { ...chartColumns(statements.buckets.all(runUuid, key) as ChartBucket[]), total };
    const blob = statements.history.get(runUuid, key) as Buffer;
    // A fresh copy: the BLOB's bytes need not be aligned for a Float64Array view.
    const doubles = new Float64Array(new Uint8Array(blob).buffer);
    const length = doubles.length / 2;
    return { steps: doubles.subarray(0, length), values: doubles.subarray(length), total: length };
  };
}
