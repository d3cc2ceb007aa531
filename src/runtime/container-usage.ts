import type { ContainerStats } from 'dockerode';

/** A one-shot reading of a container's counters; CPU use is the difference between two readings. */
export interface ContainerUsage {
  time: Date;
  /** CPU time the container has used, all cores together. */
  cpuNs: number;
  /** CPU time the whole host has used (idle included), the denominator for a share. */
  systemCpuNs: number;
  onlineCpus: number;
  /** Memory in use without the reclaimable page cache, as `docker stats` counts it. */
  memoryBytes: number;
  memoryLimitBytes: number;
  pids: number;
}

export function toContainerUsage(stats: ContainerStats): ContainerUsage {
  const memory = stats.memory_stats ?? {};
  const details = (memory.stats ?? {}) as Record<string, number | undefined>;
  // cgroup v1 reports total_inactive_file, v2 inactive_file.
  const inactive = details.total_inactive_file ?? details.inactive_file ?? 0;
  const usage = memory.usage ?? 0;
  const read = Date.parse(stats.read);
  return {
    time: Number.isNaN(read) || read <= 0 ? new Date() : new Date(read),
    cpuNs: stats.cpu_stats?.cpu_usage?.total_usage ?? 0,
    systemCpuNs: stats.cpu_stats?.system_cpu_usage ?? 0,
    onlineCpus: stats.cpu_stats?.online_cpus ?? 0,
    memoryBytes: inactive < usage ? usage - inactive : usage,
    memoryLimitBytes: memory.limit ?? 0,
    pids: stats.pids_stats?.current ?? 0,
  };
}

/** CPU use between two readings, in percent of one core (200 = two cores busy), as `docker stats` shows it. */
export function cpuPercentBetween(before: ContainerUsage, after: ContainerUsage): number {
  const cpu = after.cpuNs - before.cpuNs;
  const system = after.systemCpuNs - before.systemCpuNs;
  if (cpu <= 0 || system <= 0) return 0;
  return (cpu / system) * Math.max(after.onlineCpus, 1) * 100;
}
