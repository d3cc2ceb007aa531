import { createHash } from 'node:crypto';
import type { SimulatedGpuModel } from '../config.ts';
import type { GpuDevice, GpuInventory } from './gpu-types.ts';

const GIB = 1024 ** 3;
const IDLE_TEMPERATURE = 30;
const FULL_LOAD_TEMPERATURE = 78;
/** Data-centre GPUs idle at about a tenth of their power limit (an H100: ~70 W of 700 W) and peak near it. */
const IDLE_POWER_SHARE = 0.1;
const FULL_LOAD_POWER_SHARE = 0.9;

/** The same spec gives the same UUIDs at every start, and adding a GPU at the end leaves the others' alone. */
function simulatedUuid(index: number, model: SimulatedGpuModel): string {
  const hex = createHash('sha256').update(`${index}:${model.model.toUpperCase()}:${model.memoryGb}`).digest('hex');
  return `GPU-fake-${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 28)}`;
}

interface Load {
  utilization: number;
  memoryBytes: number;
}

function reading(index: number, uuid: string, model: SimulatedGpuModel, load: Load): GpuDevice {
  const memoryTotal = model.memoryGb * GIB;
  const powerShare = IDLE_POWER_SHARE + (FULL_LOAD_POWER_SHARE - IDLE_POWER_SHARE) * load.utilization;
  return {
    index,
    uuid,
    name: `NVIDIA ${model.model} ${model.memoryGb}GB (simulated)`,
    memoryTotal,
    memoryUsed: load.memoryBytes,
    memoryFree: memoryTotal - load.memoryBytes,
    utilization: load.utilization,
    temperature: Math.round(IDLE_TEMPERATURE + (FULL_LOAD_TEMPERATURE - IDLE_TEMPERATURE) * load.utilization),
    powerDraw: Math.round(model.powerLimitWatts * powerShare * 100) / 100,
    powerLimit: model.powerLimitWatts,
    migMode: null,
    migDevices: [],
  };
}

/**
 * GPUs that exist only in configuration (`TRAINYARD_GPUS=fake:4xH100-80GB`), for development and tests. They
 * place like real ones and their samples follow what `setLoad` says the jobs on them do: utilization and
 * memory as given, temperature and power rising with utilization. No processes are reported.
 */
export function createSimulatedInventory(models: readonly SimulatedGpuModel[], now: () => number): GpuInventory {
  const gpus = models.map((model, index) => ({ index, model, uuid: simulatedUuid(index, model) }));
  const loads = new Map<string, Load>();
  const idle: Load = { utilization: 0, memoryBytes: 0 };

  return {
    kind: 'simulated',
    async list() {
      return {
        kind: 'simulated',
        sampledAt: now(),
        devices: gpus.map(({ index, model, uuid }) => reading(index, uuid, model, loads.get(uuid) ?? idle)),
        processes: [],
      };
    },
    setLoad(uuid, utilization, memoryBytes) {
      const gpu = gpus.find((candidate) => candidate.uuid === uuid);
      if (!gpu) throw new RangeError(`no simulated GPU has the UUID ${uuid}`);
      if (!(utilization >= 0 && utilization <= 1)) throw new RangeError(`utilization must be between 0 and 1, got ${utilization}`);
      const memoryTotal = gpu.model.memoryGb * GIB;
      if (!(Number.isSafeInteger(memoryBytes) && memoryBytes >= 0 && memoryBytes <= memoryTotal)) {
        throw new RangeError(`memory must be whole bytes from 0 to ${memoryTotal} on ${uuid}, got ${memoryBytes}`);
      }
      loads.set(uuid, { utilization, memoryBytes });
    },
  };
}
