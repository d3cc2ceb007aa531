/** How waiting reasons write amounts: "1 GPU", "2.5 GPUs", "8 CPUs", "jobs 5 and 8" (memory: lib's formatBytes). */

export const formatNumber = (value: number) => String(Math.round(value * 10) / 10);

export function formatCount(value: number, noun: string): string {
  return `${formatNumber(value)} ${noun}${value === 1 ? '' : 's'}`;
}

export const formatGpus = (count: number) => formatCount(count, 'GPU');

/** "job 5", "jobs 5 and 8", "jobs 5, 8 and 9". */
export function formatJobs(ids: readonly (number | string)[]): string {
  if (ids.length === 1) return `job ${ids[0]}`;
  return `jobs ${ids.slice(0, -1).join(', ')} and ${ids[ids.length - 1]}`;
}
