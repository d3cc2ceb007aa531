import type {
  PlaceableGpu,
  PlacementInput,
  QueuedJob,
  Resources,
  RunningJob,
} from '../../src/scheduler/placement-types.ts';

/** Builders for placement inputs: 8 idle H100s, a roomy host, nobody running, an empty queue. */

export const GIB = 1024 ** 3;
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const NOW = Date.UTC(2026, 0, 5, 12);

export function h100s(count: number, memoryGb = 80): PlaceableGpu[] {
  return Array.from({ length: count }, (_, index) => ({
    uuid: `GPU-${index}`,
    index,
    name: `NVIDIA H100 ${memoryGb}GB`,
    memoryTotal: memoryGb * GIB,
    memoryFree: memoryGb * GIB,
  }));
}

/** `{ gpus: 2 }`, `{ gb: 20 }` (GPU memory in GiB), `{}` for CPU only; 4 CPUs and 16 GiB of host memory unless said. */
export function asks(request: { gpus?: number; gb?: number; cpus?: number; memoryGb?: number }): Resources {
  return {
    ...(request.gpus !== undefined && { gpus: request.gpus }),
    ...(request.gb !== undefined && { gpuMemory: request.gb * GIB }),
    cpus: request.cpus ?? 4,
    memory: (request.memoryGb ?? 16) * GIB,
  };
}

type Request = Parameters<typeof asks>[0];

/** A waiting job; job N was submitted N seconds before noon unless `submittedAt` says otherwise. */
export function queued(id: number | string, request: Request, extra: Partial<QueuedJob> = {}): QueuedJob {
  return {
    id,
    user: 'ada',
    project: 'vision',
    priority: 0,
    submittedAt: NOW - 10 * MINUTE + (typeof id === 'number' ? id * 1000 : 0),
    resources: asks(request),
    ...extra,
  };
}

/** A running job on the given GPUs; started an hour ago, not preemptible, unless said. */
export function running(id: number | string, gpuUuids: string[], request: Request, extra: Partial<RunningJob> = {}): RunningJob {
  return {
    id,
    user: 'ada',
    project: 'vision',
    priority: 0,
    resources: asks(request),
    gpuUuids,
    startedAt: NOW - HOUR,
    preemptible: false,
    ...extra,
  };
}

export function world(overrides: Partial<PlacementInput> = {}): PlacementInput {
  return { now: NOW, gpus: h100s(8), host: { cpus: 128, memory: 1024 * GIB }, running: [], queue: [], ...overrides };
}

/** mulberry32: a small seeded PRNG, so that random tests replay exactly. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
