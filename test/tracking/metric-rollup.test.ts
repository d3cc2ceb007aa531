import { beforeAll, describe, expect, it } from 'vitest';
import { chartColumns, chartsFromBuckets, type ChartBucket } from '../../src/tracking/metric-rollup.ts';
import { createMetricFixture, type MetricFixture, type WirePoint } from './metric-fixtures.ts';

let f: MetricFixture;

beforeAll(async () => {
  f = await createMetricFixture();
});

const SPECIAL = { NaN: Number.NaN, Infinity, '-Infinity': -Infinity } as const;
const numberOf = (value: WirePoint['value']) => (typeof value === 'number' ? value : SPECIAL[value]);
/** As SQLite gives a REAL back: NaN is NULL. */
const stored = (value: number) => (Number.isNaN(value) ? null : value);

/**
 * A thousand points of two keys that make every tie happen: steps out of order, negative and far apart, repeated
 * with the same and other timestamps; values repeated, with NaN and the infinities among them.
 */
const STEP_BASES = [-5_000_000_000, -100, 0, 200, 4_000, 1_000_000, 2 ** 40];
const trickyPoints: WirePoint[] = Array.from({ length: 1000 }, (_, index) => {
  const scrambled = (index * 7919) % 1000;
  const value: WirePoint['value'] =
    index % 37 === 0 ? 'NaN' : index % 41 === 0 ? 'Infinity' : index % 43 === 0 ? '-Infinity' : ((scrambled * 31) % 101) / 10 - 5;
  // About 48 points a key and base over 13 steps and 2 timestamps: the bucket's first and last points tie often.
  const step = STEP_BASES[index % STEP_BASES.length]! + (scrambled % 13) * 23;
  return { key: index % 3 === 0 ? 'b' : 'a', value, timestamp: 1000 + (scrambled % 2), step };
});

/** The rollup rows by their definition, straight from the points in the order they were logged. */
function expectedBuckets(points: WirePoint[]) {
  const logged = points.map((point, order) => ({ ...point, value: numberOf(point.value), order }));
  const groups = new Map<string, typeof logged>();
  for (const point of logged) {
    const id = JSON.stringify([point.key, Math.floor(point.step / 256)]);
    groups.set(id, [...(groups.get(id) ?? []), point]);
  }
  const rows = [...groups].map(([id, group]) => {
    const [key, bucket] = JSON.parse(id) as [string, number];
    const inHistoryOrder = group.toSorted((a, b) => a.step - b.step || a.timestamp - b.timestamp || a.order - b.order);
    const finite = group.filter((point) => Number.isFinite(point.value));
    const min = finite.toSorted((a, b) => a.value - b.value || a.step - b.step)[0];
    const max = finite.toSorted((a, b) => b.value - a.value || a.step - b.step)[0];
    const first = inHistoryOrder[0]!;
    const last = inHistoryOrder.at(-1)!;
    return {
      key,
      bucket,
      count: group.length,
      first_step: first.step,
      first_timestamp: first.timestamp,
      first_value: stored(first.value),
      last_step: last.step,
      last_timestamp: last.timestamp,
      last_value: stored(last.value),
      min_value: min?.value ?? null,
      min_value_step: min?.step ?? null,
      max_value: max?.value ?? null,
      max_value_step: max?.step ?? null,
    };
  });
  return rows.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.bucket - b.bucket));
}

describe('metric rollups kept by the ingest', () => {
  it('hold what their definition says for points logged out of order, with repeated steps, NaN and infinities', () => {
    const runId = f.newRun();
    f.logPoints(runId, trickyPoints);
    expect(f.storedBuckets(runId)).toEqual(expectedBuckets(trickyPoints));
  });

  it.each([
    ['many log-batch calls', (runId: string) => f.logPoints(runId, trickyPoints, 73)],
    [
      'log-metric calls and log-batch calls',
      (runId: string) => {
        trickyPoints.slice(0, 25).forEach((point) => f.t.app.tracking.metrics.logMetric(f.caller, { run_id: runId, ...point }));
        f.logPoints(runId, trickyPoints.slice(25), 400);
      },
    ],
  ])('are the same when the points come in %s as in one', (_name, log) => {
    const runId = f.newRun();
    log(runId);
    expect(f.storedBuckets(runId)).toEqual(expectedBuckets(trickyPoints));
  });

  it('count NaN and infinities but never take them for min or max', () => {
    const runId = f.newRun();
    const values: WirePoint['value'][] = ['NaN', 5, 'Infinity', '-Infinity', 3, 'NaN'];
    f.logPoints(runId, [
      ...values.map((value, step) => ({ key: 'mixed', value, timestamp: 1, step })),
      ...(['NaN', 'Infinity'] as const).map((value, step) => ({ key: 'special', value, timestamp: 1, step })),
    ]);
    expect(f.storedBuckets(runId)).toEqual([
      expect.objectContaining({ key: 'mixed', count: 6, first_value: null, last_value: null, min_value: 3, min_value_step: 4, max_value: 5, max_value_step: 1 }),
      expect.objectContaining({ key: 'special', count: 2, first_value: null, last_value: Infinity, min_value: null, min_value_step: null, max_value: null }),
    ]);
  });

  it('are rebuilt by the migration exactly as the ingest keeps them', () => {
    const runIds = [f.newRun(), f.newRun()];
    f.logPoints(runIds[0]!, trickyPoints);
    f.logPoints(runIds[1]!, trickyPoints.toReversed(), 250);
    const kept = runIds.map((runId) => f.storedBuckets(runId));
    f.backfillBuckets();
    expect(runIds.map((runId) => f.storedBuckets(runId))).toEqual(kept);
    expect(kept).toEqual([expectedBuckets(trickyPoints), expectedBuckets(trickyPoints.toReversed())]);
  });

  it('go with their run when it is deleted for good', () => {
    const runId = f.newRun();
    f.logPoints(runId, trickyPoints.slice(0, 10));
    expect(f.storedBuckets(runId).length).toBeGreaterThan(0);
    f.t.app.db.$client.prepare('DELETE FROM runs WHERE run_uuid = ?').run(runId);
    expect(f.storedBuckets(runId)).toEqual([]);
  });
});

describe('chartsFromBuckets', () => {
  it.each([
    ['a million consecutive steps', 1_000_000, 3_907, 1000, true],
    ['the most points a chart may ask for', 1_000_000, 3_907, 5000, true],
    ['a million points logged every 20 steps', 1_000_000, 78_125, 1000, true],
    ['a short history, whatever its buckets', 20_000, 79, 10, false],
    ['too few buckets for the chart', 100_000, 391, 1000, false],
    ['buckets of too few points to save reading', 100_000, 25_000, 1000, false],
    ['more buckets than a chart reads', 10_000_000, 100_001, 1000, false],
    ['crowded steps, many points a step', 1_000_000, 2, 1000, false],
  ])('reads the buckets for %s: %s', (_name, total, buckets, points, expected) => {
    expect(chartsFromBuckets(total, buckets, points)).toBe(expected);
  });
});

describe('chartColumns', () => {
  const columns = (buckets: ChartBucket[]) => {
    const { steps, values } = chartColumns(buckets);
    return [...steps].map((step, index) => [step, values[index]]);
  };

  it('turns each bucket into its first, min, max and last points in step order', () => {
    expect(columns([[0, 1, 40, -2, 10, 9, 255, 0.5]])).toEqual([[0, 1], [10, 9], [40, -2], [255, 0.5]]);
  });

  it('does not repeat a point that is also the first, the last, or both min and max', () => {
    expect(
      columns([
        [0, 1, 0, 1, 5, 2, 5, 2],
        [256, 7, 256, 7, 256, 7, 256, 7],
        [512, 3, 530, 3, 530, 3, 540, 3],
      ]),
    ).toEqual([[0, 1], [5, 2], [256, 7], [512, 3], [530, 3], [540, 3]]);
  });

  it('keeps NaN first and last points as gaps, and buckets without a finite value', () => {
    expect(columns([[0, null, 3, 1, 3, 1, 9, null], [256, null, null, null, null, null, 270, Infinity]])).toEqual([
      [0, Number.NaN],
      [3, 1],
      [9, Number.NaN],
      [256, Number.NaN],
      [270, Infinity],
    ]);
  });
});
