import type { ContainerStats } from 'dockerode';
import { describe, expect, it } from 'vitest';
import { cpuPercentBetween, toContainerUsage, type ContainerUsage } from '../../src/runtime/container-usage.ts';

const reading = (cpuNs: number, systemCpuNs: number): ContainerUsage => ({
  time: new Date(0),
  cpuNs,
  systemCpuNs,
  onlineCpus: 2,
  memoryBytes: 0,
  memoryLimitBytes: 0,
  pids: 1,
});

describe('container usage', () => {
  it('counts memory without the reclaimable page cache (cgroup v1 and v2 names)', () => {
    const v1 = { read: '2026-01-01T00:00:00.5Z', memory_stats: { usage: 1000, limit: 4000, stats: { total_inactive_file: 300 } } };
    const v2 = { read: '2026-01-01T00:00:00.5Z', memory_stats: { usage: 1000, limit: 4000, stats: { inactive_file: 100 } } };
    expect(toContainerUsage(v1 as unknown as ContainerStats)).toMatchObject({ memoryBytes: 700, memoryLimitBytes: 4000, time: new Date('2026-01-01T00:00:00.5Z') });
    expect(toContainerUsage(v2 as unknown as ContainerStats).memoryBytes).toBe(900);
  });

  it('reads a stopped container (empty stats) as zeros', () => {
    const stopped = { read: '0001-01-01T00:00:00Z', memory_stats: {}, cpu_stats: { cpu_usage: {} } };
    expect(toContainerUsage(stopped as unknown as ContainerStats)).toMatchObject({ cpuNs: 0, memoryBytes: 0, memoryLimitBytes: 0, pids: 0 });
  });

  const table: Array<[string, ContainerUsage, ContainerUsage, number]> = [
    ['one core busy on a 2-CPU host', reading(0, 0), reading(1e9, 2e9), 100],
    ['idle', reading(5e9, 1e9), reading(5e9, 3e9), 0],
    ['counters that went back (a restarted container)', reading(9e9, 9e9), reading(1e9, 1e9), 0],
  ];
  for (const [name, before, after, percent] of table) {
    it(`CPU percent between two readings: ${name}`, () => expect(cpuPercentBetween(before, after)).toBe(percent));
  }
});
