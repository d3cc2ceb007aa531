import type { JobRecord } from './job-queries.ts';
import type { PlaceableGpu } from './placement-types.ts';

/** The utilization a simulated GPU reports while a job holds it: busy, as a training job would keep it. */
export const SIMULATED_UTILIZATION = 0.9;
/** A job that holds a whole simulated GPU is reported using this share of its memory. */
const WHOLE_GPU_MEMORY_SHARE = 0.9;

type Allocation = Pick<JobRecord, 'gpus' | 'gpuMemory' | 'gpuUuids'>;

/**
 * How many GPUs a job holds, for accounting and quotas: 1 for each whole GPU (or MIG device) it was given, and
 * for a slice its share of the GPU's memory (20 GB of an 80 GB GPU: 0.25).
 */
export function allocatedGpus(job: Allocation, memoryTotalOf: (uuid: string) => number | undefined): number {
  if (job.gpuMemory === null) return job.gpuUuids.length;
  const uuid = job.gpuUuids[0];
  const total = uuid === undefined ? undefined : memoryTotalOf(uuid);
  return total ? Math.min(1, job.gpuMemory / total) : 0;
}

/** Allocated GPU-seconds of one run: a run's length is Docker's, clamped (a very short one may end before it "starts"). */
export function gpuSecondsOf(gpus: number, startedAt: number, finishedAt: number): number {
  return gpus * Math.max(0, finishedAt - startedAt) / 1000;
}

/**
 * The memory each GPU's jobs hold, as the simulated inventory is told to report it: a slice's reservation, most of
 * a whole GPU. Every GPU is listed, 0 for an idle one, so a freed GPU goes back to idle.
 */
export function simulatedLoads(gpus: readonly PlaceableGpu[], holders: readonly Allocation[]): Map<string, number> {
  const loads = new Map(gpus.map((gpu) => [gpu.uuid, 0]));
  const totals = new Map(gpus.map((gpu) => [gpu.uuid, gpu.memoryTotal]));
  for (const job of holders) {
    for (const uuid of job.gpuUuids) {
      const total = totals.get(uuid);
      if (total === undefined) continue;
      const held = job.gpuMemory ?? Math.floor(total * WHOLE_GPU_MEMORY_SHARE);
      loads.set(uuid, Math.min(total, (loads.get(uuid) ?? 0) + held));
    }
  }
  return loads;
}
