import type { GpuProcess } from '../gpu/gpu-inventory.ts';
import type { ContainerRuntime } from '../runtime/container-runtime.ts';
import { cpuPercentBetween, type ContainerUsage } from '../runtime/container-usage.ts';
import { createProcessOwners, type WatchedContainer } from './process-owners.ts';
import type { ContainerReading } from './sample.ts';
import { skippedPerCause } from './skipped-causes.ts';

/** Where containers' counters and processes come from: the container runtime. */
export type ContainerSource = Pick<ContainerRuntime, 'usageOf' | 'processIds'>;

export interface RunningContainer extends WatchedContainer {
  deploymentId: number | null;
}

export interface ContainerReader {
  /**
   * One reading per container, all asked at once; one that fails or does not answer in time is left out and
   * named in `skipped`. `processes` (awaited while the counters are read) is null when the GPU source says nothing
   * of processes (simulated GPUs, or a failed sample): the containers' GPU memory is then unknown, not 0.
   */
  read(containers: readonly RunningContainer[], processes: Promise<readonly GpuProcess[] | null>): Promise<{ containers: ContainerReading[]; skipped: string[] }>;
}

/** GPU memory of each container's processes; a container whose every process gave no figure has null. */
function gpuMemoryPerContainer(processes: readonly GpuProcess[], owners: Map<number, string>): Map<string, number | null> {
  const memory = new Map<string, number | null>();
  for (const { pid, usedMemory } of processes) {
    const owner = owners.get(pid);
    if (owner === undefined) continue;
    const before = memory.get(owner) ?? null;
    memory.set(owner, usedMemory === null ? before : (before ?? 0) + usedMemory);
  }
  return memory;
}

/** Docker's counters are cumulative: a container's CPU use is the difference from its reading in the round before. */
export function createContainerReader(source: () => ContainerSource, timeoutMs: number): ContainerReader {
  const previous = new Map<string, ContainerUsage>();
  const processOwners = createProcessOwners(source, timeoutMs);

  return {
    async read(containers, processes) {
      const [usages, attributed] = await Promise.all([
        Promise.allSettled(containers.map((container) => source().usageOf(container.containerId, timeoutMs))),
        processes.then(async (listed) => (listed === null ? undefined : { listed, ...(await processOwners.find(listed, containers)) })),
      ]);
      const gpuMemory = attributed && gpuMemoryPerContainer(attributed.listed, attributed.owners);
      const readings: ContainerReading[] = [];
      const failed: Array<{ jobId: number; error: unknown }> = [];
      usages.forEach((usage, i) => {
        const { jobId, deploymentId, containerId } = containers[i]!;
        if (usage.status === 'rejected') {
          failed.push({ jobId, error: usage.reason });
          return;
        }
        const before = previous.get(containerId);
        previous.set(containerId, usage.value);
        readings.push({
          jobId,
          deploymentId,
          cpu: before ? cpuPercentBetween(before, usage.value) / 100 : null,
          memoryBytes: usage.value.memoryBytes,
          gpuMemoryBytes: gpuMemory ? (gpuMemory.has(containerId) ? gpuMemory.get(containerId)! : 0) : null,
        });
      });
      const running = new Set(containers.map((container) => container.containerId));
      for (const id of previous.keys()) if (!running.has(id)) previous.delete(id);
      return { containers: readings, skipped: [...skippedPerCause('docker stats of', failed), ...(attributed?.skipped ?? [])] };
    },
  };
}
