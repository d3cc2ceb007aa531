import type { Rollups } from './rollup-queries.ts';
import { bucketStart, type Tier } from './tiers.ts';

/** Rows one statement deletes at most, so that retention never holds the write lock for long. */
export const EXPIRE_BATCH = 5_000;

/**
 * Rolls each tier's closed batches (tiers.ts) into the next coarser tier, from where the last rollup stopped: a
 * bucket is closed once `now` is past its end (the sampler stamps rows with the time it reads). Rolling a bucket
 * again gives the same row, so a rollup cut short by a failure is simply done again.
 */
export function rollUpClosedBuckets(rollups: Rollups, tiers: readonly Tier[], now: number): void {
  let closedUntil = now;
  for (let i = 1; i < tiers.length; i++) {
    const source = tiers[i - 1]!.resolution;
    const target = tiers[i]!;
    const until = bucketStart(closedUntil, target.rolledEveryMs);
    const rolled = rollups.watermark(target.resolution);
    const earliest = rolled ?? rollups.earliest(source);
    if (earliest === undefined) return;
    const from = bucketStart(earliest, target.resolution);
    if (until > from) rollups.rollUp(source, target.resolution, from, until);
    // The next tier may only roll what this one holds for good.
    closedUntil = Math.max(from, until);
  }
}

/**
 * Deletes one batch per table of each tier's rows past its retention; true when a batch was full and more
 * may be left. A tier's rows are kept until the next tier has rolled them up, whatever their age.
 */
export function expireOldRows(rollups: Rollups, tiers: readonly Tier[], now: number, limit = EXPIRE_BATCH): boolean {
  let more = false;
  tiers.forEach((tier, i) => {
    const next = tiers[i + 1];
    const rolled = next ? (rollups.watermark(next.resolution) ?? Number.NEGATIVE_INFINITY) : Number.POSITIVE_INFINITY;
    const before = Math.min(now - tier.keepMs, rolled);
    if (Number.isFinite(before) && rollups.expire(tier.resolution, before, limit) >= limit) more = true;
  });
  return more;
}
