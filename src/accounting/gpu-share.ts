import { placeableUnits, type GpuSnapshot } from '../gpu/gpu-inventory.ts';
import type { JobAllocation } from '../scheduler/job-allocation-queries.ts';

export type Holding = Pick<JobAllocation, 'gpus' | 'gpuMemory' | 'gpuUuids'>;

/**
 * How many GPUs a job holds while it runs, for accounting: a whole GPU counts 1; a MIG device its share of its
 * GPU's memory (a 3g.40gb device of an 80 GB A100: 0.5); a `gpuMemory` slice its share of the GPU's memory, at most
 * 1 (20 GB of an 80 GB GPU: 0.25; of a MIG device, that share of the device's). Memory is what a slice keeps everyone else from, and MIG profiles split memory
 * and compute in nearly the same proportion. The units are those of the job's latest placement; where the inventory
 * no longer lists one (or a requeued job waits to be placed again) a device counts 1 and a slice its share of the
 * largest GPU listed.
 */
export function gpuShares(snapshot: GpuSnapshot): (job: Holding) => number {
  const gpuMemory = new Map(snapshot.devices.map((gpu) => [gpu.uuid, gpu.memoryTotal]));
  const units = new Map(
    placeableUnits(snapshot).map((unit) => {
      const parentMemory = unit.parentUuid === null ? null : gpuMemory.get(unit.parentUuid);
      const share = unit.parentUuid === null ? 1 : unit.memoryTotal && parentMemory ? Math.min(1, unit.memoryTotal / parentMemory) : 1;
      return [unit.uuid, { share, memoryTotal: unit.memoryTotal }];
    }),
  );
  const largestGpu = Math.max(0, ...snapshot.devices.map((gpu) => gpu.memoryTotal ?? 0));

  return (job) => {
    if (job.gpuMemory !== null) {
      const unit = job.gpuUuids[0] === undefined ? undefined : units.get(job.gpuUuids[0]);
      const total = unit?.memoryTotal ?? largestGpu;
      return total > 0 ? Math.min(1, job.gpuMemory / total) * (unit?.share ?? 1) : 0;
    }
    if (job.gpuUuids.length === 0) return job.gpus;
    return job.gpuUuids.reduce((sum, uuid) => sum + (units.get(uuid)?.share ?? 1), 0);
  };
}
