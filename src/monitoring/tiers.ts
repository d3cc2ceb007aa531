export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/** How long each tier keeps its rows. */
export interface Retention {
  rawMs: number;
  minuteMs: number;
  hourMs: number;
}

export const DEFAULT_RETENTION: Retention = { rawMs: DAY_MS, minuteMs: 30 * DAY_MS, hourMs: 365 * DAY_MS };

/** The `resolution` of the raw tier's rows: one row per sampler round, stamped with the round's time. */
export const RAW = 0;

export interface Tier {
  /** The rows' `resolution`: RAW, or the width of the buckets it averages. */
  resolution: number;
  /** How far apart its rows are: the sampler's interval for raw rows. */
  stepMs: number;
  keepMs: number;
  /**
   * A coarser tier is rolled up a batch at a time (an hour of minutes, a day of hours), written subject by
   * subject: a subject's rows then lie together on disk, and a 30-day chart reads ~1,000 pages instead of one
   * or two per row (the raw rows of every subject are written interleaved, round by round).
   */
  rolledEveryMs: number;
}

/** Raw, minute and hour tiers, finest first; each coarser one is rolled up from the one before it. */
export function tiersOf(sampleIntervalMs: number, retention: Retention = DEFAULT_RETENTION): Tier[] {
  return [
    { resolution: RAW, stepMs: sampleIntervalMs, keepMs: retention.rawMs, rolledEveryMs: sampleIntervalMs },
    { resolution: MINUTE_MS, stepMs: MINUTE_MS, keepMs: retention.minuteMs, rolledEveryMs: HOUR_MS },
    { resolution: HOUR_MS, stepMs: HOUR_MS, keepMs: retention.hourMs, rolledEveryMs: DAY_MS },
  ];
}

/** The start of the bucket of `width` that holds `at`. */
export const bucketStart = (at: number, width: number) => at - (((at % width) + width) % width);
