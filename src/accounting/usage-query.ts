import { z } from 'zod';
import { addDays, DAY_MS, dayOf, dayStart, isDay } from './utc-days.ts';

export const USAGE_GROUPINGS = ['project', 'user', 'day'] as const;
export type UsageGrouping = (typeof USAGE_GROUPINGS)[number];

/** The longest range one report covers, in days. */
const MAX_USAGE_DAYS = 366;
/** Without `from`, a report covers this many days up to `to`. */
const DEFAULT_USAGE_DAYS = 7;

export interface UsageQuery {
  /** First and last day, both included, UTC. */
  from: string;
  to: string;
  by: UsageGrouping;
}

const day = z.string().refine(isDay, { error: (issue) => `write a day as YYYY-MM-DD, like 2026-11-22; got "${String(issue.input)}"` });

/**
 * A report's range and grouping from query parameters: `to` defaults to today (UTC), `from` to the week that ends
 * on `to`, `by` to project. Bad days, `from` after `to` and ranges past MAX_USAGE_DAYS are refused with a reason.
 */
export function usageQuerySchema(today: number) {
  return z
    .strictObject({
      from: day.optional(),
      to: day.optional(),
      by: z.enum(USAGE_GROUPINGS, { error: (issue) => `one of ${USAGE_GROUPINGS.join(', ')}; got "${String(issue.input)}"` }).default('project'),
    })
    .transform(({ from, to = dayOf(today), by }): UsageQuery => ({ from: from ?? addDays(to, 1 - DEFAULT_USAGE_DAYS), to, by }))
    .superRefine(({ from, to }, context) => {
      const days = (dayStart(to) - dayStart(from)) / DAY_MS + 1;
      if (days < 1) context.addIssue({ code: 'custom', message: `from (${from}) is after to (${to})` });
      else if (days > MAX_USAGE_DAYS) context.addIssue({ code: 'custom', message: `from ${from} to ${to} is ${days} days; a report covers at most ${MAX_USAGE_DAYS}` });
    });
}
