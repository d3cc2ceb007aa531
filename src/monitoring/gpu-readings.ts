import type { GpuSnapshot } from '../gpu/gpu-inventory.ts';
import type { GpuReading, UnitHolder } from './sample.ts';

/** A running job as far as the GPUs go: the units (whole GPUs or MIG devices) the scheduler placed it on. */
export interface GpuHoldingJob {
  id: number;
  deploymentId: number | null;
  gpuUuids: readonly string[];
}

export interface GpuReader {
  /** The snapshot's GPUs with their holders, or none when the sample failed; `skipped` says what is missing and why. */
  read(snapshot: GpuSnapshot, jobs: readonly GpuHoldingJob[]): { gpus: GpuReading[]; skipped: string[] };
}

function holdersPerGpu(snapshot: GpuSnapshot, jobs: readonly GpuHoldingJob[]): Map<string, UnitHolder[]> {
  const gpuOfUnit = new Map(snapshot.devices.flatMap((gpu) => [[gpu.uuid, gpu.uuid] as const, ...gpu.migDevices.map((mig) => [mig.uuid, gpu.uuid] as const)]));
  const holders = new Map<string, UnitHolder[]>();
  for (const job of jobs) {
    for (const unitUuid of job.gpuUuids) {
      const gpu = gpuOfUnit.get(unitUuid);
      if (gpu === undefined) continue;
      holders.set(gpu, [...(holders.get(gpu) ?? []), { unitUuid, jobId: job.id, deploymentId: job.deploymentId }]);
    }
  }
  return holders;
}

/**
 * A failed sample carries the last good readings, which are not this round's: the GPUs are then skipped. A GPU
 * seen in an earlier round and missing from this one (a line nvidia-smi garbled, a GPU fallen off the bus) is
 * named too, so a chart's gap has its reason.
 */
export function createGpuReader(): GpuReader {
  const known = new Map<string, number>();
  return {
    read(snapshot, jobs) {
      if (snapshot.problem !== undefined) return { gpus: [], skipped: [`GPUs: ${snapshot.problem}`] };
      const holders = holdersPerGpu(snapshot, jobs);
      const gpus = snapshot.devices.map((gpu): GpuReading => {
        known.set(gpu.uuid, gpu.index);
        return {
          uuid: gpu.uuid,
          index: gpu.index,
          name: gpu.name,
          utilization: gpu.utilization,
          memoryUsed: gpu.memoryUsed,
          memoryTotal: gpu.memoryTotal,
          temperature: gpu.temperature,
          powerDraw: gpu.powerDraw,
          powerLimit: gpu.powerLimit,
          holders: holders.get(gpu.uuid) ?? [],
        };
      });
      const present = new Set(gpus.map((gpu) => gpu.uuid));
      const missing = [...known].filter(([uuid]) => !present.has(uuid)).map(([uuid, index]) => `GPU ${index} (${uuid}): not in this sample`);
      return { gpus, skipped: missing };
    },
  };
}
