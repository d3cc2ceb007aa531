import type { GpuDevice, GpuSnapshot } from './gpu-types.ts';
import type { ListedGpu } from './parse-gpu-list.ts';
import type { MigMemory } from './parse-mig-memory.ts';
import type { GpuReading } from './parse-query-gpu.ts';

/**
 * A MIG profile's memory from its name (`3g.40gb`): decimal gigabytes, a little under what the device really has
 * (40448 MiB), so an estimate never makes the scheduler count on memory that is not there.
 */
function memoryOfProfile(profile: string): number | null {
  const match = /\.(\d+)gb/i.exec(profile);
  return match ? Number(match[1]) * 1e9 : null;
}

/** Joins `--query-gpu`'s GPUs with the MIG devices `-L` lists under them and the memory `-q` reports for each. */
export function withMigDevices(gpus: GpuReading[], listed: ListedGpu[], memory: Map<string, Map<number, MigMemory>>): GpuDevice[] {
  return gpus.map((gpu) => {
    if (gpu.migMode !== 'enabled') return { ...gpu, migDevices: [] };
    const listing = listed.find((entry) => entry.uuid === gpu.uuid);
    const measured = memory.get(gpu.uuid);
    const migDevices = (listing?.migDevices ?? []).map((mig) => {
      const reported = measured?.get(mig.index);
      return {
        uuid: mig.uuid,
        parentUuid: gpu.uuid,
        index: mig.index,
        profile: mig.profile,
        memoryTotal: reported?.total ?? memoryOfProfile(mig.profile),
        memoryUsed: reported?.used ?? null,
        memoryFree: reported?.free ?? null,
      };
    });
    return { ...gpu, migDevices };
  });
}

/** Something a job can be placed on: a GPU, or a MIG device of a GPU in MIG mode. */
export interface GpuUnit {
  uuid: string;
  name: string;
  /** The GPU a MIG device belongs to; null for a whole GPU. */
  parentUuid: string | null;
  memoryTotal: number | null;
  memoryUsed: number | null;
  memoryFree: number | null;
}

/** The units of a snapshot: each GPU not in MIG mode, and the MIG devices of those that are (never the GPU itself). */
export function placeableUnits(snapshot: GpuSnapshot): GpuUnit[] {
  return snapshot.devices.flatMap((gpu): GpuUnit[] =>
    gpu.migMode === 'enabled'
      ? gpu.migDevices.map((mig) => ({ ...pickMemory(mig), uuid: mig.uuid, name: `${gpu.name} MIG ${mig.profile}`, parentUuid: gpu.uuid }))
      : [{ ...pickMemory(gpu), uuid: gpu.uuid, name: gpu.name, parentUuid: null }],
  );
}

const pickMemory = ({ memoryTotal, memoryUsed, memoryFree }: Pick<GpuUnit, 'memoryTotal' | 'memoryUsed' | 'memoryFree'>) => ({
  memoryTotal,
  memoryUsed,
  memoryFree,
});
