import { beforeEach, describe, expect, it } from 'vitest';
import { createRollups, type Rollups } from '../../src/monitoring/rollup-queries.ts';
import { createSampleWrites, type SampleWrites } from '../../src/monitoring/sample-queries.ts';
import type { MonitorSample } from '../../src/monitoring/sample.ts';
import { expireOldRows, rollUpClosedBuckets } from '../../src/monitoring/tier-maintenance.ts';
import { HOUR_MS, MINUTE_MS, RAW, tiersOf } from '../../src/monitoring/tiers.ts';
import { createTestApp, type TestApp } from '../helpers/test-app.ts';
import { INTERVAL_MS, containerAt, gpuAt, monitorOf, roundAt } from './monitoring-fixtures.ts';

const DAY_MS = 24 * HOUR_MS;
const TIERS = tiersOf(INTERVAL_MS);
/** An hour boundary, so that minutes and hours line up with the rounds written from it. */
const START = Date.UTC(2027, 2, 1);
const GPU = 'GPU-11111111-2222-3333-4444-555555555555';

let t: TestApp;
let writes: SampleWrites;
let rollups: Rollups;

beforeEach(async () => {
  t = await createTestApp();
  writes = createSampleWrites(t.app.db);
  rollups = createRollups(t.app.db);
});

/** Rounds every 5 s over [from, until), each made by `at`'s index from `from`. */
function roundsOver(from: number, until: number, make: (k: number, at: number) => Partial<Omit<MonitorSample, 'at'>>): MonitorSample[] {
  return Array.from({ length: Math.ceil((until - from) / INTERVAL_MS) }, (_, k) => roundAt(from + k * INTERVAL_MS, make(k, from + k * INTERVAL_MS)));
}

const mean = (values: Array<number | null>) => {
  const known = values.filter((value) => value !== null);
  return known.length === 0 ? null : known.reduce((sum, value) => sum + value, 0) / known.length;
};

function tierRows(resolution: number) {
  return t.app.db.$client
    .prepare('SELECT at, samples, utilization, temperature FROM gpu_samples WHERE resolution = ? AND gpu_uuid = ? ORDER BY at')
    .all(resolution, GPU) as Array<{ at: number; samples: number; utilization: number | null; temperature: number | null }>;
}

/** Two hours of rounds: utilization cycles through 0..0.6, a third of the temperatures are missing. */
const utilizationAt = (k: number) => (k % 7) / 10;
const temperatureAt = (k: number) => (k % 3 === 0 ? null : 40 + (k % 5));
const twoHours = () => roundsOver(START, START + 2 * HOUR_MS, (k) => ({ gpus: [gpuAt(GPU, { utilization: utilizationAt(k), temperature: temperatureAt(k) })] }));

describe('downsampling', () => {
  it('makes minute and hour rows that are the means of the rounds they cover, leaving missing readings out', () => {
    writes.write(twoHours());
    rollUpClosedBuckets(rollups, TIERS, START + DAY_MS);

    const expected = (from: number, count: number) => {
      const ks = Array.from({ length: count }, (_, i) => from + i);
      return { samples: count, utilization: mean(ks.map(utilizationAt)), temperature: mean(ks.map(temperatureAt)) };
    };
    const minutes = tierRows(MINUTE_MS);
    expect(minutes).toHaveLength(120);
    minutes.forEach((row, m) => {
      const want = expected(m * 12, 12);
      expect(row.at).toBe(START + m * MINUTE_MS);
      expect(row.samples).toBe(12);
      expect(row.utilization).toBeCloseTo(want.utilization!, 12);
      expect(row.temperature).toBeCloseTo(want.temperature!, 12);
    });
    const hours = tierRows(HOUR_MS);
    expect(hours.map((row) => [row.at, row.samples])).toEqual([[START, 720], [START + HOUR_MS, 720]]);
    hours.forEach((row, h) => {
      const want = expected(h * 720, 720);
      expect(row.utilization).toBeCloseTo(want.utilization!, 12);
      // Weighted by the rounds behind each minute, so the hour is the mean of its rounds, not of its minutes.
      expect(row.temperature).toBeCloseTo(want.temperature!, 12);
    });
  });

  it('rolls minutes once their hour has closed and hours once their day has, and rolling again changes nothing', () => {
    writes.write(twoHours());
    const rows = () => ({ minutes: tierRows(MINUTE_MS), hours: tierRows(HOUR_MS) });
    rollUpClosedBuckets(rollups, TIERS, START + 2 * HOUR_MS - 1);
    expect(rows().minutes.map((row) => row.at)).toEqual(Array.from({ length: 60 }, (_, m) => START + m * MINUTE_MS));
    rollUpClosedBuckets(rollups, TIERS, START + 2 * HOUR_MS);
    expect(rows().minutes).toHaveLength(120);
    expect(rows().hours).toEqual([]);

    rollUpClosedBuckets(rollups, TIERS, START + DAY_MS);
    const rolled = rows();
    expect(rolled.hours.map((row) => row.at)).toEqual([START, START + HOUR_MS]);
    rollUpClosedBuckets(rollups, TIERS, START + DAY_MS + HOUR_MS);
    expect(rows()).toEqual(rolled);
  });
});

describe('retention', () => {
  it('deletes expired rows in bounded batches, but never rows the next tier has not rolled up yet', () => {
    const old = START - 3 * DAY_MS;
    writes.write(roundsOver(old, old + HOUR_MS, () => ({ gpus: [gpuAt(GPU)] })));
    expect(expireOldRows(rollups, TIERS, START, 100)).toBe(false);
    expect(tierRows(RAW)).toHaveLength(720);

    rollUpClosedBuckets(rollups, TIERS, START);
    const batches: number[] = [];
    while (expireOldRows(rollups, TIERS, START, 100)) batches.push(tierRows(RAW).length);
    expect(batches).toEqual([620, 520, 420, 320, 220, 120, 20]);
    expect(tierRows(RAW)).toEqual([]);
    expect(tierRows(MINUTE_MS)).toHaveLength(60);
    expect(tierRows(HOUR_MS)).toHaveLength(1);
  });
});

describe('a chart', () => {
  const series = (query: Parameters<ReturnType<typeof monitorOf>['monitoring']['series']>[0]) => monitorOf(t).monitoring.series(query);

  it('reads the finest tier that reaches back to its start, and is current to the last round', () => {
    const now = START + 400 * DAY_MS + 30 * MINUTE_MS + 40_000;
    t.clock.now = now;
    const hourRounds = Array.from({ length: 400 * 24 }, (_, h) => roundAt(START + h * HOUR_MS, { gpus: [gpuAt(GPU, { utilization: 0.3 })] }));
    writes.write(hourRounds, { resolution: HOUR_MS, samples: 720 });
    const minutesFrom = now - 40 * DAY_MS - ((now - 40 * DAY_MS) % MINUTE_MS);
    const minuteRounds = Array.from({ length: 40 * 24 * 60 - 120 }, (_, m) => roundAt(minutesFrom + m * MINUTE_MS, { gpus: [gpuAt(GPU, { utilization: 0.2 })] }));
    writes.write(minuteRounds, { resolution: MINUTE_MS, samples: 12 });
    writes.write(roundsOver(now - 2 * HOUR_MS, now, () => ({ gpus: [gpuAt(GPU, { utilization: 0.1 })] })));
    rollUpClosedBuckets(rollups, TIERS, now);
    const gpu = { kind: 'gpu', uuid: GPU } as const;

    const lastHour = series({ subject: gpu, from: now - HOUR_MS, to: now, maxPoints: 10_000 });
    expect(lastHour.resolutionMs).toBe(INTERVAL_MS);
    expect(lastHour.at).toHaveLength(720);
    expect(new Set(lastHour.fields.utilization)).toEqual(new Set([0.1]));

    const sixDays = series({ subject: gpu, from: now - 6 * DAY_MS, to: now, maxPoints: 10_000 });
    expect(sixDays.resolutionMs).toBe(MINUTE_MS);
    expect(sixDays.fields.utilization![0]).toBeCloseTo(0.2, 12);
    // The minute in progress comes from the raw rounds: the chart does not wait for its rollup.
    expect(sixDays.at.at(-1)).toBe(now - (now % MINUTE_MS));
    expect(sixDays.fields.utilization!.at(-1)).toBeCloseTo(0.1, 12);

    const ninetyDays = series({ subject: gpu, from: now - 90 * DAY_MS, to: now, maxPoints: 10_000 });
    expect(ninetyDays.resolutionMs).toBe(HOUR_MS);
    expect(ninetyDays.at).toHaveLength(90 * 24);
    expect(ninetyDays.fields.utilization![0]).toBeCloseTo(0.3, 12);
    expect(ninetyDays.fields.utilization!.at(-1)).toBeCloseTo(0.1, 12);

    const twoYears = series({ subject: gpu, from: now - 730 * DAY_MS, to: now });
    expect(twoYears.resolutionMs).toBe(18 * HOUR_MS);
    expect(twoYears.at.length).toBeLessThanOrEqual(1_000);
  });

  it('merges points into wider buckets, each the mean of its rounds, to stay within maxPoints', () => {
    writes.write(twoHours());
    t.clock.now = START + 2 * HOUR_MS;
    const chart = series({ subject: { kind: 'gpu', uuid: GPU }, from: START, to: START + 2 * HOUR_MS - 1, maxPoints: 10 });
    expect(chart.resolutionMs).toBe(12 * MINUTE_MS);
    expect(chart.at).toEqual(Array.from({ length: 10 }, (_, i) => START + i * 12 * MINUTE_MS));
    chart.fields.utilization!.forEach((value, i) => {
      expect(value).toBeCloseTo(mean(Array.from({ length: 144 }, (_, k) => utilizationAt(i * 144 + k)))!, 12);
    });
  });

  it("of a deployment sums its replicas' containers at each time", () => {
    writes.write(
      roundsOver(START, START + 10 * MINUTE_MS, (k) => ({
        containers: [
          containerAt(11, { deploymentId: 3, cpu: 1, memoryBytes: 1e9, gpuMemoryBytes: k % 2 === 0 ? null : 4e9 }),
          containerAt(12, { deploymentId: 3, cpu: 2, memoryBytes: 2e9, gpuMemoryBytes: null }),
          containerAt(13, { deploymentId: 4, cpu: 5, memoryBytes: 5e9 }),
        ],
      })),
    );
    t.clock.now = START + 10 * MINUTE_MS;
    const window = { from: START, to: START + 10 * MINUTE_MS - 1 };
    const deployment = series({ subject: { kind: 'deployment', deploymentId: 3 }, ...window });
    expect(new Set(deployment.fields.cpu)).toEqual(new Set([3]));
    expect(new Set(deployment.fields.memoryBytes)).toEqual(new Set([3e9]));
    expect(deployment.fields.gpuMemoryBytes!.slice(0, 2)).toEqual([null, 4e9]);
    expect(new Set(series({ subject: { kind: 'job', jobId: 12 }, ...window }).fields.cpu)).toEqual(new Set([2]));

    rollUpClosedBuckets(rollups, TIERS, START + DAY_MS);
    t.clock.now = START + 40 * DAY_MS;
    const later = series({ subject: { kind: 'deployment', deploymentId: 3 }, ...window });
    expect(later.resolutionMs).toBe(HOUR_MS);
    expect(later.fields.cpu).toEqual([3]);
  });

  it('breaks its line where a subject has no rows', () => {
    const busy = (from: number) => roundsOver(from, from + 10 * MINUTE_MS, () => ({ containers: [containerAt(21)] }));
    writes.write([...busy(START), ...busy(START + 20 * MINUTE_MS)]);
    t.clock.now = START + 30 * MINUTE_MS;
    const chart = series({ subject: { kind: 'job', jobId: 21 }, from: START, to: START + 30 * MINUTE_MS });
    expect(chart.at).toHaveLength(241);
    expect(chart.at[120]).toBe(START + 10 * MINUTE_MS);
    expect(chart.fields.cpu!.filter((value) => value === null)).toHaveLength(1);
    expect(chart.fields.cpu![120]).toBeNull();
  });
});
