import { badRequest } from '../lib/errors.ts';
import type { SeriesPart, SeriesRow } from './series-queries.ts';
import type { SeriesQuery, SeriesSubject } from './series.ts';
import type { Tier } from './tiers.ts';

export const DEFAULT_MAX_POINTS = 1_000;
const MOST_POINTS = 10_000;

export interface SeriesPlan {
  /** The chosen tier's rows from `from`, then each finer tier's rows from where the coarser one's rollups stop. */
  parts: SeriesPart[];
  /** The buckets' width: a multiple of the chosen tier's step. */
  width: number;
  /** Raw rows that need no merging keep their own times rather than their buckets' starts. */
  exact: boolean;
}

function checkSubject(subject: SeriesSubject | undefined): void {
  const valid =
    subject?.kind === 'host' ||
    (subject?.kind === 'gpu' && typeof subject.uuid === 'string' && subject.uuid !== '') ||
    (subject?.kind === 'job' && Number.isSafeInteger(subject.jobId) && subject.jobId > 0) ||
    (subject?.kind === 'deployment' && Number.isSafeInteger(subject.deploymentId) && subject.deploymentId > 0);
  if (!valid) throw badRequest('a series names a GPU by uuid, the host, a job by id or a deployment by id');
}

/** A chart's query as the store reads it; a bad one is a 400 that says what is wrong. */
export function checkSeriesQuery(query: SeriesQuery): Required<SeriesQuery> {
  checkSubject(query.subject);
  const { from, to, maxPoints = DEFAULT_MAX_POINTS } = query;
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to)) throw badRequest('from and to are times in ms since the epoch');
  if (from > to) throw badRequest('from is after to');
  if (!Number.isSafeInteger(maxPoints) || maxPoints < 1 || maxPoints > MOST_POINTS) throw badRequest(`maxPoints is a whole number from 1 to ${MOST_POINTS}`);
  return { subject: query.subject, from, to, maxPoints };
}

/** How many buckets of `width` the times from..to touch. */
const bucketsSpanned = (from: number, to: number, width: number) => Math.floor(to / width) - Math.floor(from / width) + 1;

/**
 * The finest tier whose retention still reaches `from` (the coarsest when none does), read up to where its
 * rollups stop and continued from the finer tiers up to `to`, so a chart is current to the last round. Points
 * are merged into wider buckets until there are no more than `maxPoints`.
 */
export function planSeries(query: Required<SeriesQuery>, tiers: readonly Tier[], now: number, watermark: (resolution: number) => number | undefined): SeriesPlan {
  const { from, to, maxPoints } = query;
  const covering = tiers.findIndex((tier) => now - tier.keepMs <= from);
  const chosen = covering < 0 ? tiers.length - 1 : covering;
  const parts: SeriesPart[] = [];
  let start = from;
  for (let i = chosen; i >= 0; i--) {
    const rolledUntil = i === 0 ? to + 1 : (watermark(tiers[i]!.resolution) ?? start);
    const until = Math.min(Math.max(start, rolledUntil), to + 1);
    parts.push({ resolution: tiers[i]!.resolution, from: start, until });
    start = until;
  }
  const step = tiers[chosen]!.stepMs;
  let width = step * Math.max(1, Math.ceil((to - from + 1) / (step * maxPoints)));
  while (bucketsSpanned(from, to, width) > maxPoints) width += step;
  return { parts, width, exact: chosen === 0 && width === step };
}

/** Rows with a null point wherever more than a bucket is missing, so that a chart breaks its line there. */
export function withGaps(rows: readonly SeriesRow[], width: number): SeriesRow[] {
  const out: SeriesRow[] = [];
  for (const row of rows) {
    const previous = out.at(-1);
    if (previous && row[0] - previous[0] > 2 * width) out.push([previous[0] + width, ...row.slice(1).map(() => null)]);
    out.push(row);
  }
  return out;
}
