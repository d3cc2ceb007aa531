import type { Db } from '../db/connection.ts';

/** One metric's whole history as two parallel columns in step order; NaN (stored as NULL) stays NaN. */
export interface MetricColumns {
  steps: Float64Array;
  values: Float64Array;
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
 * Reads a history straight into typed arrays through an aggregate that SQLite feeds row by row: a million
 * points as row arrays (or as the MLflow history's JSON) cost several times more than the chart they become.
 * The aggregate hands back one BLOB: the steps, then the values, as doubles.
 */
export function createMetricSeriesQueries(db: Db) {
  let prepared: ReturnType<typeof prepare> | undefined;
  function prepare() {
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
    return db.$client
      .prepare(
        `SELECT trainyard_metric_columns(step, value) FROM
           (SELECT step, value FROM metrics WHERE run_uuid = ? AND key = ? ORDER BY step, timestamp, rowid)`,
      )
      .pluck();
  }

  return function readMetricColumns(runUuid: string, key: string): MetricColumns {
    const blob = (prepared ??= prepare()).get(runUuid, key) as Buffer;
    // A fresh copy: the BLOB's bytes need not be aligned for a Float64Array view.
    const doubles = new Float64Array(new Uint8Array(blob).buffer);
    const length = doubles.length / 2;
    return { steps: doubles.subarray(0, length), values: doubles.subarray(length) };
  };
}
