import { formatBytes } from '../lib/byte-size.ts';
import { availableBytes, isWholeFree, type Pool } from './gpu-pool.ts';
import type { HeadReservation } from './head-reservation.ts';
import type { JobId, QueuedJob, Resources } from './placement-types.ts';
import { formatCount, formatGpus, formatJobs, formatNumber } from './quantities.ts';

/** What is short right now, first GPUs, then CPUs, then memory: "waiting for 2 GPUs: 1 free". */
export function shortageReason(pool: Pool, resources: Resources): string {
  const { gpus, gpuMemory } = resources;
  if (gpuMemory !== undefined) {
    const most = Math.max(0, ...pool.units.map((unit) => availableBytes(unit)));
    if (most < gpuMemory) {
      return `waiting for ${formatBytes(gpuMemory)} of GPU memory: at most ${formatBytes(most)} free on one GPU`;
    }
  } else if (gpus) {
    const free = pool.units.filter(isWholeFree).length;
    if (free < gpus) return `waiting for ${formatGpus(gpus)}: ${free} free`;
  }
  if (resources.cpus > pool.freeCpus) {
    return `waiting for ${formatCount(resources.cpus, 'CPU')}: ${formatNumber(Math.max(0, pool.freeCpus))} free`;
  }
  if (resources.memory > pool.freeMemory) {
    return `waiting for ${formatBytes(resources.memory)} of memory: ${formatBytes(Math.max(0, pool.freeMemory))} free`;
  }
  // Callers ask only when something is short.
  return 'waiting for resources';
}

export function behindReason(head: HeadReservation, job: QueuedJob): string {
  return head.priority > job.priority ? `behind higher-priority job ${head.jobId}` : `behind job ${head.jobId}, first in line`;
}

export function preemptingReason(victims: readonly { id: JobId }[], awaited: readonly { id: JobId }[]): string {
  if (victims.length > 0) return `preempting lower-priority ${formatJobs(victims.map((held) => held.id))}`;
  return `waiting for ${formatJobs(awaited.map((held) => held.id))} to stop`;
}
