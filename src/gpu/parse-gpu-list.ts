import type { SkippedLine } from './gpu-types.ts';

export interface ListedMigDevice {
  index: number;
  profile: string;
  uuid: string;
}

export interface ListedGpu {
  index: number;
  name: string;
  uuid: string;
  migDevices: ListedMigDevice[];
}

const GPU_LINE = /^GPU (\d+): (.+?) \(UUID: (GPU-[^)\s]+)\)$/;
// Drivers before R470 named MIG devices `MIG-GPU-<gpu uuid>/<gi>/<ci>`; later ones `MIG-<uuid>`.
const MIG_LINE = /^MIG (\S+)\s+Device\s+(\d+): \(UUID: (MIG-[^)\s]+)\)$/;

/** Parses `nvidia-smi -L`: each GPU, and under a GPU in MIG mode its MIG devices. */
export function parseGpuList(text: string): { gpus: ListedGpu[]; skipped: SkippedLine[] } {
  const gpus: ListedGpu[] = [];
  const skipped: SkippedLine[] = [];
  for (const line of text.split(/\r?\n/).map((raw) => raw.trim())) {
    if (line === '') continue;
    const gpu = GPU_LINE.exec(line);
    if (gpu) {
      gpus.push({ index: Number(gpu[1]), name: gpu[2]!, uuid: gpu[3]!, migDevices: [] });
      continue;
    }
    const mig = MIG_LINE.exec(line);
    const parent = gpus.at(-1);
    if (mig && parent) parent.migDevices.push({ index: Number(mig[2]), profile: mig[1]!, uuid: mig[3]! });
    else skipped.push({ line, reason: mig ? 'a MIG device before any GPU' : 'neither a GPU nor a MIG device' });
  }
  return { gpus, skipped };
}
