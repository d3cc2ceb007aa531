import type { GpuProcess } from '../gpu/gpu-inventory.ts';
import type { ContainerRuntime } from '../runtime/container-runtime.ts';
import { skippedPerCause } from './skipped-causes.ts';

export type ProcessLister = Pick<ContainerRuntime, 'processIds'>;

/** A running job's container as the monitor sees it. */
export interface WatchedContainer {
  jobId: number;
  containerId: string;
  holdsGpus: boolean;
}

export interface ProcessOwners {
  /** Which container each GPU process runs in (processes of no job's container are left out), and what could not be asked. */
  find(processes: readonly GpuProcess[], containers: readonly WatchedContainer[]): Promise<{ owners: Map<number, string>; skipped: string[] }>;
}

/**
 * Tells whose a GPU process is from the containers' host PIDs (`docker top`), kept per container and asked
 * again only when a GPU process of no known container appears, or the containers change: not at every round.
 */
export function createProcessOwners(lister: () => ProcessLister, timeoutMs: number): ProcessOwners {
  const pidsOf = new Map<string, Set<number>>();
  /** The processes and containers at the last refresh, so unknown processes (the host's own) do not ask at every round. */
  let askedFor = '';

  async function refresh(containers: readonly WatchedContainer[]): Promise<string[]> {
    const answers = await Promise.allSettled(containers.map((container) => lister().processIds(container.containerId, timeoutMs)));
    const failed: Array<{ jobId: number; error: unknown }> = [];
    answers.forEach((answer, i) => {
      const { containerId, jobId } = containers[i]!;
      if (answer.status === 'fulfilled') pidsOf.set(containerId, new Set(answer.value));
      else failed.push({ jobId, error: answer.reason });
    });
    return skippedPerCause('the processes of', failed);
  }

  return {
    async find(processes, containers) {
      const gpuContainers = containers.filter((container) => container.holdsGpus);
      const running = new Set(gpuContainers.map((container) => container.containerId));
      for (const id of pidsOf.keys()) if (!running.has(id)) pidsOf.delete(id);
      const ownerOf = () => new Map([...pidsOf].flatMap(([containerId, pids]) => [...pids].map((pid): [number, string] => [pid, containerId])));
      let owners = ownerOf();
      let skipped: string[] = [];
      const pids = [...new Set(processes.map((process) => process.pid))].sort((a, b) => a - b);
      const situation = `${pids.join(',')}|${[...running].sort().join(',')}`;
      if (pids.some((pid) => !owners.has(pid)) && situation !== askedFor && gpuContainers.length > 0) {
        skipped = await refresh(gpuContainers);
        askedFor = skipped.length === 0 ? situation : '';
        owners = ownerOf();
      }
      return { owners, skipped };
    },
  };
}
