import { formatBytes } from '../lib/byte-size.ts';
import type { HostCapacity, PlaceableGpu, Resources } from './placement-types.ts';
import { formatCount, formatGpus } from './quantities.ts';

export type Feasibility = { ok: true } | { ok: false; reason: string };

/** The machine a request is measured against: every placeable GPU (busy or not) and the host's capacity. */
export interface Inventory {
  gpus: readonly PlaceableGpu[];
  host: HostCapacity;
}

/** A slice's share is a ratio of bytes: equal to a limit within rounding is within it. */
const QUOTA_EPSILON = 1e-9;

const isAmount = (value: number) => Number.isFinite(value) && value >= 0;

function malformed(resources: Resources): string | undefined {
  const { gpus, gpuMemory, cpus, memory } = resources;
  if (gpus !== undefined && (!Number.isInteger(gpus) || gpus < 0)) return 'gpus must be a whole number of GPUs, 0 or more';
  if (gpuMemory !== undefined && !(isAmount(gpuMemory) && gpuMemory > 0)) return 'gpuMemory must be a positive number of bytes';
  if (gpus && gpuMemory !== undefined) return 'ask for whole GPUs or for GPU memory, not both';
  if (!isAmount(cpus)) return 'cpus must be a number, 0 or more';
  if (!isAmount(memory)) return 'memory must be a number of bytes, 0 or more';
  return undefined;
}

function beyondMachine(resources: Resources, { gpus, host }: Inventory): string | undefined {
  if (resources.gpus && resources.gpus > gpus.length) {
    return `asks for ${formatGpus(resources.gpus)}, the host has ${gpus.length}`;
  }
  if (resources.gpuMemory !== undefined) {
    const largest = Math.max(0, ...gpus.map((gpu) => gpu.memoryTotal));
    if (gpus.length === 0) return 'asks for GPU memory, the host has no GPU';
    if (resources.gpuMemory > largest) {
      return `asks for ${formatBytes(resources.gpuMemory)} of GPU memory on one GPU, the largest has ${formatBytes(largest)}`;
    }
  }
  if (resources.cpus > host.cpus) return `asks for ${formatCount(resources.cpus, 'CPU')}, the host gives jobs ${host.cpus}`;
  if (resources.memory > host.memory) {
    return `asks for ${formatBytes(resources.memory)} of memory, the host gives jobs ${formatBytes(host.memory)}`;
  }
  return undefined;
}

/**
 * Whether a request could ever run on this machine, however idle: the API answers a 4xx with the reason when
 * not, and the planner never lets such a job hold others back.
 */
export function checkFeasible(resources: Resources, inventory: Inventory): Feasibility {
  const reason = malformed(resources) ?? beyondMachine(resources, inventory);
  return reason === undefined ? { ok: true } : { ok: false, reason };
}

/** The appliance-wide GPU limits of one user's and one project's jobs. */
export interface GpuLimits {
  gpusPerUser?: number;
  gpusPerProject?: number;
}

/**
 * Whether a request fits under the GPU quotas at all, with nothing else held: a job asking past them would wait
 * forever. A GPU-memory slice counts as its share of the largest GPU, the least it could count as.
 */
export function checkWithinQuota(resources: Resources, gpus: readonly PlaceableGpu[], limits: GpuLimits): Feasibility {
  const largest = Math.max(0, ...gpus.map((gpu) => gpu.memoryTotal));
  const share = resources.gpus ?? (resources.gpuMemory !== undefined && largest > 0 ? resources.gpuMemory / largest : 0);
  for (const [who, limit] of [['user', limits.gpusPerUser], ['project', limits.gpusPerProject]] as const) {
    if (limit !== undefined && share > limit + QUOTA_EPSILON) return { ok: false, reason: `asks for ${formatGpus(share)}, the ${who} quota is ${formatGpus(limit)}` };
  }
  return { ok: true };
}
