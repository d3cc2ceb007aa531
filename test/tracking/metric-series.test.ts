import { beforeAll, describe, expect, it } from 'vitest';
import { lttb } from '../../src/lib/downsample.ts';
import type { MetricSeries } from '../../src/tracking/metric-series.ts';
import { createMetricFixture, type MetricFixture, type WirePoint } from './metric-fixtures.ts';

let f: MetricFixture;
let millionRun: string;

const MILLION = 1_000_000;
const SPIKE_STEP = 777_777;

beforeAll(async () => {
  f = await createMetricFixture();
  millionRun = f.newRun();
  f.insertHistory(millionRun, 'loss', MILLION, `CASE i WHEN ${SPIKE_STEP} THEN 1e6 ELSE 1.0 / (1 + i / 1000.0) END`);
});

const series = (runId: string, key: string, points?: number) => f.t.app.tracking.metrics.series(f.caller, runId, key, points);

/** Every point of the chart is a logged point, not an average or an interpolation (the steps here are unique). */
function expectLoggedPoints(chart: MetricSeries, runId: string): void {
  const logged = f.t.app.db.$client
    .prepare('SELECT step, value FROM metrics WHERE run_uuid = ? AND key = ? AND step IN (SELECT value FROM json_each(?))')
    .raw()
    .all(runId, chart.key, JSON.stringify(chart.steps)) as Array<[number, number | null]>;
  const values = new Map(logged.map(([step, value]) => [step, value !== null && Number.isFinite(value) ? value : null]));
  expect(chart.steps.map((step) => values.get(step))).toEqual(chart.values);
}

const points = (count: number, point: (index: number) => Omit<WirePoint, 'key' | 'timestamp'>, key = 'm'): WirePoint[] =>
  Array.from({ length: count }, (_, index) => ({ key, timestamp: 1_700_000_000_000 + index, ...point(index) }));

describe('the chart series of a long metric, read from its rollups', () => {
  it('keeps the spike among a million points and both ends, within the time a chart may take', () => {
    series(millionRun, 'loss');
    const started = performance.now();
    const chart = series(millionRun, 'loss');
    const elapsed = performance.now() - started;
    expect(chart.total).toBe(MILLION);
    expect(chart.steps).toHaveLength(1000);
    expect(chart.steps).toEqual(chart.steps.toSorted((a, b) => a - b));
    expect(chart.steps[0]).toBe(0);
    expect(chart.steps.at(-1)).toBe(MILLION - 1);
    expect(chart.values[chart.steps.indexOf(SPIKE_STEP)]).toBe(1e6);
    expectLoggedPoints(chart, millionRun);
    expect(elapsed).toBeLessThan(150);
  });

  it('answers as many points as asked', () => {
    expect(series(millionRun, 'loss', 5000).steps).toHaveLength(5000);
    expect(series(millionRun, 'loss', 3)).toMatchObject({ total: MILLION, steps: [0, SPIKE_STEP, MILLION - 1] });
  });

  it('is drawn from the rollups, not from the history', () => {
    const runId = f.newRun();
    f.logPoints(runId, points(50_000, (index) => ({ step: index, value: index })));
    f.t.app.db.$client.prepare('DELETE FROM metrics WHERE run_uuid = ?').run(runId);
    expect(series(runId, 'm', 300)).toMatchObject({ total: 50_000, steps: expect.arrayContaining([0, 49_999]) });
  });

  it('keeps a monotone series monotone, with its first and last points', () => {
    const runId = f.newRun();
    f.logPoints(runId, points(50_000, (index) => ({ step: index, value: index / 10 })));
    const chart = series(runId, 'm', 300);
    expect(chart.total).toBe(50_000);
    expect(chart.steps).toHaveLength(300);
    expect([chart.steps[0], chart.values[0]]).toEqual([0, 0]);
    expect([chart.steps.at(-1), chart.values.at(-1)]).toEqual([49_999, 4999.9]);
    expect(chart.values).toEqual(chart.values.toSorted((a, b) => a! - b!));
    expectLoggedPoints(chart, runId);
  });

  it('is not thrown off by NaN and infinities: the extremes are the finite ones, the gaps stay gaps', () => {
    const runId = f.newRun();
    const special = (step: number) => (step % 10 === 3 ? 'NaN' : step % 10 === 7 ? 'Infinity' : undefined);
    f.logPoints(runId, points(50_000, (step) => ({ step, value: special(step) ?? Math.sin(step / 2500) })));
    const chart = series(runId, 'm', 300);
    const finite = chart.values.filter((value) => value !== null);
    expect(Math.max(...finite)).toBeCloseTo(1, 4);
    expect(Math.min(...finite)).toBeCloseTo(-1, 4);
    expect(chart.values).toContain(null);
    expectLoggedPoints(chart, runId);
  });

  it('serves steps logged every 20, keeping the ends and a spike', () => {
    const runId = f.newRun();
    f.logPoints(runId, points(50_000, (index) => ({ step: index * 20, value: index === 31_337 ? -500 : Math.cos(index / 100) })));
    const chart = series(runId, 'm');
    expect(chart.total).toBe(50_000);
    expect(chart.steps).toHaveLength(1000);
    expect(chart.steps[0]).toBe(0);
    expect(chart.steps.at(-1)).toBe(999_980);
    expect(chart.values[chart.steps.indexOf(626_740)]).toBe(-500);
    expectLoggedPoints(chart, runId);
  });
});

describe('the chart series of a short, crowded or sparse metric, read whole', () => {
  /** The stored history in step order; non-finite values as the series writes them, null. */
  function history(runId: string, key: string): Array<[number, number | null]> {
    const rows = f.t.app.db.$client
      .prepare('SELECT step, value FROM metrics WHERE run_uuid = ? AND key = ? ORDER BY step, timestamp, rowid')
      .raw()
      .all(runId, key) as Array<[number, number | null]>;
    return rows.map(([step, value]) => [step, value !== null && Number.isFinite(value) ? value : null]);
  }

  /** What the series was before rollups: LTTB over the whole history. */
  function exactChart(runId: string, key: string, count: number): MetricSeries {
    const rows = history(runId, key);
    const kept = lttb(
      rows.map(([step]) => step),
      rows.map(([, value]) => value ?? Number.NaN),
      count,
    );
    return { key, total: rows.length, steps: kept.map((index) => rows[index]![0]), values: kept.map((index) => rows[index]![1]) };
  }

  it.each([
    ['20,000 points', points(20_000, (index) => ({ step: index, value: Math.sin(index / 300) }))],
    ['30,000 points crowded on 100 steps', points(30_000, (index) => ({ step: index % 100, value: (index * 7919) % 1009 }))],
    ['30,000 points a thousand steps apart', points(30_000, (index) => ({ step: index * 1000, value: Math.sin(index / 300) }))],
  ])('downsamples %s exactly as the whole history', (_name, logged) => {
    const runId = f.newRun();
    f.logPoints(runId, logged);
    expect(series(runId, 'm')).toEqual(exactChart(runId, 'm', 1000));
  });
});
