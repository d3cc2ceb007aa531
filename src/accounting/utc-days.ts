export const DAY_MS = 86_400_000;

/** The UTC day that holds `ms`, as `YYYY-MM-DD`. */
export const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** Midnight UTC at the start of `day` (`YYYY-MM-DD`). */
export const dayStart = (day: string): number => Date.parse(`${day}T00:00:00Z`);

export const addDays = (day: string, days: number): string => dayOf(dayStart(day) + days * DAY_MS);

/** Whether `text` is a real calendar day written `YYYY-MM-DD` (not `2026-02-30`). */
export const isDay = (text: string): boolean => /^\d{4}-\d{2}-\d{2}$/.test(text) && !Number.isNaN(dayStart(text)) && dayOf(dayStart(text)) === text;

/** [start, end) cut at each UTC midnight: how many seconds of it fall on each day, in order. */
export function secondsByDay(start: number, end: number): Array<{ day: string; seconds: number }> {
  const parts: Array<{ day: string; seconds: number }> = [];
  for (let from = start; from < end; ) {
    const midnight = (Math.floor(from / DAY_MS) + 1) * DAY_MS;
    const to = Math.min(end, midnight);
    parts.push({ day: dayOf(from), seconds: (to - from) / 1000 });
    from = to;
  }
  return parts;
}
