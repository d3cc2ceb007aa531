import { describe, expect, it } from 'vitest';
import { checkFeasible, checkWithinQuota, type GpuLimits } from '../../src/scheduler/feasibility.ts';
import type { Resources } from '../../src/scheduler/placement-types.ts';
import { GIB, h100s } from './placement-world.ts';

const machine = { gpus: h100s(8), host: { cpus: 64, memory: 512 * GIB } };
const cpuOnlyMachine = { gpus: [], host: machine.host };
const base = { cpus: 4, memory: 16 * GIB };

const cases: Array<{ name: string; resources: Resources; inventory?: typeof machine; reason?: string }> = [
  { name: 'whole GPUs within the host', resources: { ...base, gpus: 8 } },
  { name: 'GPU memory within the largest GPU', resources: { ...base, gpuMemory: 80 * GIB } },
  { name: 'CPU only', resources: base },
  { name: 'zero GPUs is CPU only', resources: { ...base, gpus: 0 } },
  { name: 'CPU only on a host with no GPU', resources: base, inventory: cpuOnlyMachine },
  { name: 'more GPUs than exist', resources: { ...base, gpus: 9 }, reason: 'asks for 9 GPUs, the host has 8' },
  { name: 'a GPU on a host with none', resources: { ...base, gpus: 1 }, inventory: cpuOnlyMachine, reason: 'asks for 1 GPU, the host has 0' },
  {
    name: 'more memory than the largest GPU',
    resources: { ...base, gpuMemory: 81 * GIB },
    reason: 'asks for 81.0 GB of GPU memory on one GPU, the largest has 80.0 GB',
  },
  { name: 'GPU memory on a host with no GPU', resources: { ...base, gpuMemory: GIB }, inventory: cpuOnlyMachine, reason: 'asks for GPU memory, the host has no GPU' },
  { name: 'more CPUs than the host gives jobs', resources: { ...base, cpus: 65 }, reason: 'asks for 65 CPUs, the host gives jobs 64' },
  { name: 'more memory than the host gives jobs', resources: { ...base, memory: 513 * GIB }, reason: 'asks for 513.0 GB of memory, the host gives jobs 512.0 GB' },
  { name: 'a fraction of a GPU', resources: { ...base, gpus: 1.5 }, reason: 'gpus must be a whole number of GPUs, 0 or more' },
  { name: 'negative GPUs', resources: { ...base, gpus: -1 }, reason: 'gpus must be a whole number of GPUs, 0 or more' },
  { name: 'negative GPU memory', resources: { ...base, gpuMemory: -GIB }, reason: 'gpuMemory must be a positive number of bytes' },
  { name: 'zero GPU memory', resources: { ...base, gpuMemory: 0 }, reason: 'gpuMemory must be a positive number of bytes' },
  { name: 'GPU memory that is not a number', resources: { ...base, gpuMemory: Number.NaN }, reason: 'gpuMemory must be a positive number of bytes' },
  { name: 'both whole GPUs and GPU memory', resources: { ...base, gpus: 1, gpuMemory: GIB }, reason: 'ask for whole GPUs or for GPU memory, not both' },
  { name: 'negative host memory', resources: { ...base, memory: -1 }, reason: 'memory must be a number of bytes, 0 or more' },
  { name: 'infinite CPUs', resources: { ...base, cpus: Infinity }, reason: 'cpus must be a number, 0 or more' },
];

describe('checkFeasible', () => {
  for (const { name, resources, inventory = machine, reason } of cases) {
    it(reason ? `rejects ${name}` : `accepts ${name}`, () => {
      expect(checkFeasible(resources, inventory)).toEqual(reason ? { ok: false, reason } : { ok: true });
    });
  }
});

const quotaCases: Array<{ name: string; resources: Resources; limits: GpuLimits; reason?: string }> = [
  { name: 'no quotas', resources: { ...base, gpus: 8 }, limits: {} },
  { name: 'whole GPUs up to the user quota', resources: { ...base, gpus: 2 }, limits: { gpusPerUser: 2 } },
  { name: 'a slice of the largest GPU within half a GPU', resources: { ...base, gpuMemory: 40 * GIB }, limits: { gpusPerUser: 0.5 } },
  { name: 'CPU only under a zero-ish quota', resources: base, limits: { gpusPerUser: 0.1, gpusPerProject: 0.1 } },
  { name: 'more GPUs than the user quota', resources: { ...base, gpus: 3 }, limits: { gpusPerUser: 2 }, reason: 'asks for 3 GPUs, the user quota is 2 GPUs' },
  { name: 'more GPUs than the project quota', resources: { ...base, gpus: 4 }, limits: { gpusPerUser: 8, gpusPerProject: 3 }, reason: 'asks for 4 GPUs, the project quota is 3 GPUs' },
  { name: 'a slice larger than the quota', resources: { ...base, gpuMemory: 60 * GIB }, limits: { gpusPerUser: 0.5 }, reason: 'asks for 0.8 GPUs, the user quota is 0.5 GPUs' },
];

describe('checkWithinQuota', () => {
  for (const { name, resources, limits, reason } of quotaCases) {
    it(reason ? `rejects ${name}` : `accepts ${name}`, () => {
      expect(checkWithinQuota(resources, machine.gpus, limits)).toEqual(reason ? { ok: false, reason } : { ok: true });
    });
  }
});
