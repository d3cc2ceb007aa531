/** Milliseconds since the epoch as `2026-11-22 04:38 UTC`; a dash for never. */
export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
