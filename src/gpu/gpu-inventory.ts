import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { GpuSource } from '../config.ts';
import type { Log } from '../lib/log.ts';
import type { GpuInventory } from './gpu-types.ts';
import { createNvidiaInventory } from './nvidia-inventory.ts';
import { createNvidiaSmiRunner } from './nvidia-smi-runner.ts';
import { createSimulatedInventory } from './simulated-inventory.ts';

export type { GpuDevice, GpuInventory, GpuProcess, GpuSnapshot, MigDevice } from './gpu-types.ts';
export { placeableUnits, type GpuUnit } from './mig-devices.ts';

export interface GpuInventoryDeps {
  log: Log;
  now: () => number;
  /** Where `auto` looks for nvidia-smi; the process's PATH by default. */
  searchPath?: string;
}

function findExecutable(name: string, searchPath: string): string | undefined {
  for (const dir of searchPath.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here; try the next directory
    }
  }
  return undefined;
}

function createEmptyInventory(now: () => number): GpuInventory {
  return {
    kind: 'none',
    list: async () => ({ kind: 'none', sampledAt: now(), devices: [], processes: [] }),
    setLoad() {},
  };
}

/**
 * The GPUs of `TRAINYARD_GPUS`: simulated ones (`fake:...`), none, or with `auto` the real ones when nvidia-smi
 * is on the PATH — and none when it is not, which a CPU-only host runs fine with.
 */
export function createGpuInventory(source: GpuSource, { log, now, searchPath = process.env.PATH ?? '' }: GpuInventoryDeps): GpuInventory {
  if (source.source === 'none') return createEmptyInventory(now);
  if (source.source === 'simulated') return createSimulatedInventory(source.devices, now);
  const binary = findExecutable('nvidia-smi', searchPath);
  if (!binary) {
    log.info('nvidia-smi is not on the PATH: no GPUs, CPU jobs still run (TRAINYARD_GPUS=fake:4xH100 simulates some)');
    return createEmptyInventory(now);
  }
  return createNvidiaInventory({ run: createNvidiaSmiRunner({ binary }), log, now });
}
