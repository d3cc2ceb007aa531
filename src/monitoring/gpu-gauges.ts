import { Gauge, type Registry } from 'prom-client';
import { placeableUnits, type GpuDevice } from '../gpu/gpu-inventory.ts';
import type { Observation } from './observation.ts';

const GPU_LABELS = ['gpu', 'uuid', 'model'] as const;

/** One gauge per reading of a GPU; a reading the GPU could not give (nvidia-smi's [N/A]) is left out, never 0. */
const READINGS: ReadonlyArray<{ name: string; help: string; read: (gpu: GpuDevice) => number | null }> = [
  { name: 'trainyard_gpu_utilization_ratio', help: 'Share of the last sample period in which the GPU ran a kernel (0 to 1)', read: (gpu) => gpu.utilization },
  { name: 'trainyard_gpu_memory_used_bytes', help: 'GPU memory in use, in bytes', read: (gpu) => gpu.memoryUsed },
  { name: 'trainyard_gpu_memory_total_bytes', help: 'GPU memory in all, in bytes', read: (gpu) => gpu.memoryTotal },
  { name: 'trainyard_gpu_temperature_celsius', help: 'GPU core temperature in degrees Celsius', read: (gpu) => gpu.temperature },
  { name: 'trainyard_gpu_power_watts', help: 'Power the GPU draws, in watts', read: (gpu) => gpu.powerDraw },
  { name: 'trainyard_gpu_power_limit_watts', help: 'Power limit of the GPU, in watts', read: (gpu) => gpu.powerLimit },
];

const labelsOf = (gpu: GpuDevice) => ({ gpu: String(gpu.index), uuid: gpu.uuid, model: gpu.name });

/** How many of the holders hold each GPU, itself or one of its MIG devices; every GPU is listed, 0 when free. */
export function holdersPerGpu({ snapshot, activeJobs }: Observation): Map<string, number> {
  const gpuOf = new Map(placeableUnits(snapshot).map((unit) => [unit.uuid, unit.parentUuid ?? unit.uuid]));
  const counts = new Map(snapshot.devices.map((gpu) => [gpu.uuid, 0]));
  for (const job of activeJobs) {
    if (job.state === 'queued') continue;
    const held = new Set(job.gpuUuids.flatMap((uuid) => gpuOf.get(uuid) ?? []));
    for (const uuid of held) counts.set(uuid, (counts.get(uuid) ?? 0) + 1);
  }
  return counts;
}

/** The GPU gauges, labelled gpu (index), uuid and model, read from the observation of the scrape. */
export function registerGpuGauges(registry: Registry, observed: () => Observation): void {
  for (const { name, help, read } of READINGS) {
    new Gauge({
      name,
      help,
      labelNames: GPU_LABELS,
      registers: [registry],
      collect() {
        this.reset();
        const { snapshot } = observed();
        // A failed sample carries the last good readings, which are not what the GPU does now.
        if (snapshot.problem !== undefined) return;
        for (const gpu of snapshot.devices) {
          const value = read(gpu);
          if (value !== null) this.set(labelsOf(gpu), value);
        }
      },
    });
  }
  new Gauge({
    name: 'trainyard_gpu_allocated_jobs',
    help: 'Jobs and serving replicas, starting or running, that hold the GPU or one of its MIG devices',
    labelNames: GPU_LABELS,
    registers: [registry],
    collect() {
      this.reset();
      const observation = observed();
      const counts = holdersPerGpu(observation);
      for (const gpu of observation.snapshot.devices) this.set(labelsOf(gpu), counts.get(gpu.uuid) ?? 0);
    },
  });
}
