import { describe, expect } from 'vitest';
import type { PlaceableGpu } from '../../src/scheduler/placement-types.ts';
import { runPlacementCases } from './placement-cases.ts';
import { GIB, h100s, queued, running, world } from './placement-world.ts';

const withMemoryFree = (gpus: PlaceableGpu[], free: Record<number, number>, usedByJobs: Record<number, number> = {}) =>
  gpus.map((gpu) => ({
    ...gpu,
    ...(free[gpu.index] !== undefined && { memoryFree: free[gpu.index]! * GIB }),
    ...(usedByJobs[gpu.index] !== undefined && { memoryUsedByJobs: usedByJobs[gpu.index]! * GIB }),
  }));

/** An A100 split into MIG devices: each is a unit of its own, with its own memory. */
const migUnits: PlaceableGpu[] = [
  ['MIG-0a', '3g.40gb', 40],
  ['MIG-0b', '2g.20gb', 20],
  ['MIG-0c', '1g.10gb', 10],
  ['MIG-0d', '1g.10gb', 10],
].map(([uuid, profile, gb]) => ({
  uuid: uuid as string,
  index: 0,
  name: `NVIDIA A100 MIG ${profile}`,
  memoryTotal: (gb as number) * GIB,
  memoryFree: (gb as number) * GIB,
}));

describe('whole GPUs', () => {
  runPlacementCases([
    {
      name: 'jobs get disjoint sets of neighbouring GPUs, filled from one end',
      input: world({ queue: [queued(1, { gpus: 2 }), queued(2, { gpus: 4 }), queued(3, { gpus: 2 })] }),
      starts: { 1: ['GPU-0', 'GPU-1'], 2: ['GPU-2', 'GPU-3', 'GPU-4', 'GPU-5'], 3: ['GPU-6', 'GPU-7'] },
    },
    {
      name: 'a 2-GPU job takes neighbours rather than the lowest free indexes',
      input: world({
        running: [running('r1', ['GPU-1'], { gpus: 1 }), running('r2', ['GPU-4'], { gpus: 1 })],
        queue: [queued(1, { gpus: 2 })],
      }),
      starts: { 1: ['GPU-2', 'GPU-3'] },
    },
    {
      name: 'a 1-GPU job fills the gap that leaves the fewest separate runs of free GPUs',
      input: world({
        running: [running('r1', ['GPU-2'], { gpus: 1 }), running('r2', ['GPU-4'], { gpus: 1 }), running('r3', ['GPU-7'], { gpus: 1 })],
        queue: [queued(1, { gpus: 1 })],
      }),
      starts: { 1: ['GPU-3'] },
    },
    {
      name: 'a GPU busy with work outside Trainyard is the last choice for a whole-GPU job',
      input: world({ gpus: withMemoryFree(h100s(2), { 0: 50 }), queue: [queued(1, { gpus: 1 })] }),
      starts: { 1: ['GPU-1'] },
    },
    {
      name: 'a whole-GPU job never takes a GPU that holds a memory reservation, nor shares one',
      input: world({
        running: [running('m1', ['GPU-0'], { gb: 10 }), running('r1', ['GPU-1', 'GPU-2', 'GPU-3', 'GPU-4', 'GPU-5', 'GPU-6'], { gpus: 6 })],
        queue: [queued(1, { gpus: 1 }), queued(2, { gb: 1 }), queued(3, { gpus: 1 })],
      }),
      starts: { 1: ['GPU-7'], 2: ['GPU-0'] },
      waits: { 3: 'waiting for 1 GPU: 0 free' },
    },
  ]);
});

describe('GPU memory', () => {
  runPlacementCases([
    {
      name: 'packs by best fit, on GPUs already shared before empty ones (the far end)',
      input: world({
        running: [running('m1', ['GPU-0'], { gb: 60 }), running('m2', ['GPU-1'], { gb: 50 })],
        queue: [queued(1, { gb: 15 }), queued(2, { gb: 25 }), queued(3, { gb: 40 }), queued(4, { gb: 40 })],
      }),
      starts: { 1: ['GPU-0'], 2: ['GPU-1'], 3: ['GPU-7'], 4: ['GPU-7'] },
      check: (plan) => expect(plan.start.map((start) => start.gpuMemory)).toEqual([15, 25, 40, 40].map((gb) => gb * GIB)),
    },
    {
      name: 'never oversubscribes one GPU within a decision',
      input: world({ gpus: h100s(1), queue: [queued(1, { gb: 30 }), queued(2, { gb: 30 }), queued(3, { gb: 30 })] }),
      starts: { 1: ['GPU-0'], 2: ['GPU-0'] },
      waits: { 3: 'waiting for 30.0 GB of GPU memory: at most 20.0 GB free on one GPU' },
    },
    {
      name: 'memory used outside Trainyard is not free',
      input: world({ gpus: withMemoryFree(h100s(2), { 0: 10, 1: 15 }), queue: [queued(1, { gb: 12 }), queued(2, { gb: 12 })] }),
      starts: { 1: ['GPU-1'] },
      waits: { 2: 'waiting for 12.0 GB of GPU memory: at most 10.0 GB free on one GPU' },
    },
    {
      name: "a job's reservation and its reported use are not counted twice when the inventory tells them apart",
      input: world({
        gpus: withMemoryFree(h100s(1), { 0: 40 }, { 0: 40 }),
        running: [running('m1', ['GPU-0'], { gb: 40 })],
        queue: [queued(1, { gb: 40 })],
      }),
      starts: { 1: ['GPU-0'] },
    },
    {
      name: 'without that attribution, reported use counts as well (never oversubscribed)',
      input: world({ gpus: withMemoryFree(h100s(1), { 0: 40 }), running: [running('m1', ['GPU-0'], { gb: 40 })], queue: [queued(1, { gb: 40 })] }),
      starts: {},
      waits: { 1: 'waiting for 40.0 GB of GPU memory: at most 0 B free on one GPU' },
    },
  ]);
});

describe('MIG devices are units of their own', () => {
  runPlacementCases([
    { name: 'memory goes to the smallest device that fits', input: world({ gpus: migUnits, queue: [queued(1, { gb: 8 })] }), starts: { 1: ['MIG-0d'] } },
    { name: '15 GB takes the 2g.20gb device', input: world({ gpus: migUnits, queue: [queued(1, { gb: 15 })] }), starts: { 1: ['MIG-0b'] } },
    {
      name: 'whole requests take whole devices',
      input: world({ gpus: migUnits, queue: [queued(1, { gpus: 2 }), queued(2, { gpus: 1 })] }),
      starts: { 1: ['MIG-0a', 'MIG-0b'], 2: ['MIG-0c'] },
    },
    {
      name: 'more than the largest device is impossible',
      input: world({ gpus: migUnits, queue: [queued(1, { gb: 50 }), queued(2, { gpus: 5 })] }),
      starts: {},
      waits: {
        1: 'impossible: asks for 50.0 GB of GPU memory on one GPU, the largest has 40.0 GB',
        2: 'impossible: asks for 5 GPUs, the host has 4',
      },
    },
  ]);
});

describe('host CPUs and memory', () => {
  const host = { cpus: 16, memory: 64 * GIB };
  const busy = [running('c0', [], { cpus: 12, memoryGb: 16 })];
  runPlacementCases([
    { name: 'a CPU-only job starts with no GPU', input: world({ host, running: busy, queue: [queued(1, { cpus: 4 })] }), starts: { 1: [] } },
    {
      name: 'a CPU-only job waits for CPUs',
      input: world({ host, running: busy, queue: [queued(1, { cpus: 8 })] }),
      starts: {},
      waits: { 1: 'waiting for 8 CPUs: 4 free' },
      codes: { 1: 'resources' },
    },
    {
      name: 'a job waits for host memory',
      input: world({ host, running: busy, queue: [queued(1, { cpus: 1, memoryGb: 64 })] }),
      waits: { 1: 'waiting for 64.0 GB of memory: 48.0 GB free' },
    },
    {
      name: 'a GPU job with free GPUs still waits for CPUs',
      input: world({ host, running: busy, queue: [queued(1, { gpus: 1, cpus: 8 })] }),
      waits: { 1: 'waiting for 8 CPUs: 4 free' },
    },
  ]);
});

describe('impossible requests', () => {
  runPlacementCases([
    {
      name: 'are flagged and hold nobody back',
      input: world({ queue: [queued(1, { gpus: 9 }), queued(2, { gb: 100 }), queued(3, { cpus: 500 }), queued(4, { gpus: 1 })] }),
      starts: { 4: ['GPU-0'] },
      waits: {
        1: 'impossible: asks for 9 GPUs, the host has 8',
        2: 'impossible: asks for 100.0 GB of GPU memory on one GPU, the largest has 80.0 GB',
        3: 'impossible: asks for 500 CPUs, the host gives jobs 128',
      },
      codes: { 1: 'impossible', 2: 'impossible', 3: 'impossible' },
      check: (plan) => expect(plan.waiting.filter((entry) => entry.reserved)).toEqual([]),
    },
  ]);
});
