import { expect, it } from 'vitest';
import { createRollups } from '../../src/monitoring/rollup-queries.ts';
import { createSampleWrites } from '../../src/monitoring/sample-queries.ts';
import type { MonitorSample } from '../../src/monitoring/sample.ts';
import { expireOldRows, rollUpClosedBuckets } from '../../src/monitoring/tier-maintenance.ts';
import { HOUR_MS, MINUTE_MS, RAW, tiersOf } from '../../src/monitoring/tiers.ts';
import { createTestApp } from '../helpers/test-app.ts';
import { HOST, containerAt, gpuAt, monitorOf, roundAt } from './monitoring-fixtures.ts';

const DAY_MS = 24 * HOUR_MS;
/** A round every 10 minutes keeps a simulated year quick; the tiers work the same at any interval. */
const CADENCE_MS = 10 * MINUTE_MS;
const ROUNDS_PER_HOUR = HOUR_MS / CADENCE_MS;
const START = Date.UTC(2027, 0, 1);
const DAYS = 380;
const GPU = 'GPU-00000000-aaaa-0000-0000-000000000000';

/** The GPU is busier on some days than others, and varies within each hour: its hour's mean is (day % 10 + 0.5) / 10. */
const utilizationAt = (day: number, k: number) => (day % 10) / 10 + (k % ROUNDS_PER_HOUR) / (ROUNDS_PER_HOUR - 1) / 10;

/** A new job every 30 days, as jobs come and go. */
const jobOn = (day: number) => 1 + Math.floor(day / 30);

function dayOfRounds(day: number): MonitorSample[] {
  return Array.from({ length: 24 * ROUNDS_PER_HOUR }, (_, k) =>
    roundAt(START + day * DAY_MS + k * CADENCE_MS, {
      gpus: [gpuAt(GPU, { utilization: utilizationAt(day, k) })],
      host: HOST,
      containers: [containerAt(jobOn(day))],
    }),
  );
}

// Some 170,000 rounds' rows written, rolled up twice and expired: seconds of disk work on a busy machine.
it('keeps the database bounded over a simulated year of samples, with the right averages in every tier', { timeout: 90_000 }, async () => {
  const t = await createTestApp();
  const { db } = t.app;
  const writes = createSampleWrites(db);
  const rollups = createRollups(db);
  const tiers = tiersOf(CADENCE_MS);
  const counts = (resolution: number) => rollups.rowCounts(resolution);
  const pages = () => db.$client.pragma('page_count', { simple: true }) as number;
  const checkpoints = new Map<number, { raw: object; minutes: object; hours: object; pages: number }>();

  for (let day = 0; day < DAYS; day++) {
    writes.write(dayOfRounds(day));
    // The sampler maintains every minute; once a simulated day gives the same rows in far fewer calls.
    const end = START + (day + 1) * DAY_MS;
    rollUpClosedBuckets(rollups, tiers, end);
    while (expireOldRows(rollups, tiers, end));
    if ([60, 365, 370, DAYS].includes(day + 1)) checkpoints.set(day + 1, { raw: counts(RAW), minutes: counts(MINUTE_MS), hours: counts(HOUR_MS), pages: pages() });
  }

  // Raw: the last 24 h; minutes: the last 30 days; hours: the last 365 days. A GPU, the host, one job at a time.
  const perSubject = (rows: number) => ({ gpu_samples: rows, host_samples: rows, container_samples: rows });
  const day365 = checkpoints.get(365)!;
  expect(day365.raw).toEqual(perSubject(24 * ROUNDS_PER_HOUR));
  expect(day365.minutes).toEqual(perSubject(30 * 24 * ROUNDS_PER_HOUR));
  expect(day365.hours).toEqual(perSubject(365 * 24));
  for (const day of [370, DAYS]) expect(checkpoints.get(day)).toMatchObject({ raw: day365.raw, minutes: day365.minutes, hours: day365.hours });
  expect(checkpoints.get(60)).toMatchObject({ raw: day365.raw, minutes: day365.minutes, hours: perSubject(60 * 24) });
  // Deleted rows' pages are reused: the file stops growing once every tier is full.
  expect(checkpoints.get(DAYS)!.pages).toBeLessThanOrEqual(checkpoints.get(370)!.pages * 1.02);

  const now = START + DAYS * DAY_MS;
  t.clock.now = now;
  const hourRows = db.$client
    .prepare('SELECT at, samples, utilization FROM gpu_samples WHERE resolution = ? AND gpu_uuid = ? ORDER BY at')
    .all(HOUR_MS, GPU) as Array<{ at: number; samples: number; utilization: number }>;
  expect(hourRows).toHaveLength(365 * 24);
  for (const row of hourRows) {
    const day = Math.floor((row.at - START) / DAY_MS);
    expect(row.samples).toBe(ROUNDS_PER_HOUR);
    expect(row.utilization).toBeCloseTo((day % 10 + 0.5) / 10, 12);
  }

  const { monitoring } = monitorOf(t, { intervalMs: CADENCE_MS });
  const year = monitoring.series({ subject: { kind: 'gpu', uuid: GPU }, from: now - 365 * DAY_MS, to: now - 1, maxPoints: 365 });
  expect(year.resolutionMs).toBe(DAY_MS);
  expect(year.at).toHaveLength(365);
  year.at.forEach((at, i) => expect(year.fields.utilization![i]).toBeCloseTo((((at - START) / DAY_MS) % 10 + 0.5) / 10, 12));
  const month = monitoring.series({ subject: { kind: 'job', jobId: jobOn(DAYS - 1) }, from: now - 30 * DAY_MS, to: now - 1 });
  expect(month.resolutionMs).toBe(44 * MINUTE_MS);
  expect(new Set(month.fields.cpu)).toEqual(new Set([1]));
});
