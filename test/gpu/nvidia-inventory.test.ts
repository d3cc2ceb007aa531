import { describe, expect, it } from 'vitest';
import { createNvidiaInventory } from '../../src/gpu/nvidia-inventory.ts';
import { NvidiaSmiError } from '../../src/gpu/nvidia-smi-runner.ts';
import { MIB, capturedLog, readFixture } from './gpu-fixtures.ts';

type Outputs = Record<'query-gpu' | 'compute-apps' | 'list' | 'query', string>;

const H100X8: Outputs = {
  'query-gpu': readFixture('h100x8-query-gpu.csv'),
  'compute-apps': readFixture('h100x8-compute-apps.csv'),
  list: readFixture('h100x8-list.txt'),
  query: '',
};
const H100_MIG: Outputs = {
  'query-gpu': readFixture('h100-mig-query-gpu.csv'),
  'compute-apps': readFixture('h100-mig-compute-apps.csv'),
  list: readFixture('h100-mig-list.txt'),
  query: readFixture('h100-mig-query.txt'),
};

function commandOf(args: readonly string[]): keyof Outputs {
  if (args[0]!.startsWith('--query-gpu=')) return 'query-gpu';
  if (args[0]!.startsWith('--query-compute-apps=')) return 'compute-apps';
  return args[0] === '-L' ? 'list' : 'query';
}

/** An nvidia-smi that answers from fixtures, or fails the way `failure` says; it records each call. */
function fakeSmi(outputs: Outputs) {
  const state = { outputs, failure: undefined as NvidiaSmiError | undefined, calls: [] as string[][] };
  const clock = { now: 1_000_000 };
  const { log, entries } = capturedLog();
  const inventory = createNvidiaInventory({
    run: async (args) => {
      state.calls.push([...args]);
      if (state.failure) throw state.failure;
      return state.outputs[commandOf(args)];
    },
    log,
    now: () => clock.now,
  });
  return { inventory, state, clock, warnings: () => entries().filter((entry) => entry.level >= 40).map((entry) => entry.msg), entries };
}

describe('the nvidia-smi inventory', () => {
  it('samples GPUs and processes, and runs no MIG queries when no GPU is in MIG mode', async () => {
    const { inventory, state } = fakeSmi(H100X8);
    const snapshot = await inventory.list();
    expect(inventory.kind).toBe('nvidia');
    expect(snapshot).toMatchObject({ kind: 'nvidia', sampledAt: 1_000_000, processes: expect.arrayContaining([{ pid: 20411, gpuUuid: 'GPU-9b7bc3f7-ab26-2867-2769-77b3608461dc', usedMemory: 60800 * MIB }]) });
    expect(snapshot.problem).toBeUndefined();
    expect(snapshot.devices).toHaveLength(8);
    expect(snapshot.devices.every((device) => device.migDevices.length === 0)).toBe(true);
    expect(state.calls.map((args) => args[0]!.split('=')[0])).toEqual(['--query-gpu', '--query-compute-apps']);
    expect(state.calls[0]).toEqual([
      '--query-gpu=index,uuid,name,memory.total,memory.used,memory.free,utilization.gpu,temperature.gpu,power.draw,power.limit,mig.mode.current',
      '--format=csv,noheader,nounits',
    ]);
  });

  it('lists the MIG devices of a GPU in MIG mode with the memory its -q reports', async () => {
    const { inventory, state } = fakeSmi(H100_MIG);
    const [gpu] = (await inventory.list()).devices;
    expect(state.calls.slice(2)).toEqual([['-L'], ['-q', '-i', 'GPU-00000000-0000-0000-0000-000000000000']]);
    expect(gpu!.utilization).toBeNull();
    expect(gpu!.migDevices.map((mig) => [mig.uuid, mig.memoryTotal! / MIB])).toEqual([
      ['MIG-00000000-0000-0000-0000-000000000000', 40448],
      ['MIG-00000001-0000-0000-0000-000000000001', 20096],
      ['MIG-00000002-0000-0000-0000-000000000002', 9984],
      ['MIG-00000003-0000-0000-0000-000000000003', 9984],
    ]);
  });

  it('shares one sample among the callers of a short window', async () => {
    const { inventory, state, clock } = fakeSmi(H100X8);
    const snapshots = await Promise.all([inventory.list(), inventory.list(), inventory.list()]);
    clock.now += 1_500;
    await inventory.list();
    expect(state.calls).toHaveLength(2);
    expect(new Set(snapshots).size).toBe(1);
    clock.now += 1_000;
    expect((await inventory.list()).sampledAt).toBe(clock.now);
    expect(state.calls).toHaveLength(4);
  });

  it('keeps the last good devices through a hang, logs it once, and logs the recovery', async () => {
    const { inventory, state, clock, warnings, entries } = fakeSmi(H100X8);
    const good = await inventory.list();
    state.failure = new NvidiaSmiError('timeout', 'nvidia-smi did not answer within 5 s');
    for (let sample = 0; sample < 3; sample++) {
      clock.now += 5_000;
      const snapshot = await inventory.list();
      expect(snapshot).toMatchObject({ problem: 'nvidia-smi did not answer within 5 s', sampledAt: good.sampledAt });
      expect(snapshot.devices).toEqual(good.devices);
    }
    expect(warnings()).toEqual(['GPU sample skipped: nvidia-smi did not answer within 5 s']);
    state.failure = undefined;
    clock.now += 5_000;
    expect((await inventory.list()).problem).toBeUndefined();
    expect(entries().at(-1)!.msg).toBe('nvidia-smi answers again');
  });

  it('reports no GPUs, once, when nvidia-smi has gone, and still answers', async () => {
    const { inventory, state, clock, warnings } = fakeSmi(H100X8);
    await inventory.list();
    state.failure = new NvidiaSmiError('missing', 'nvidia-smi was not found (is the NVIDIA driver installed?)');
    clock.now += 5_000;
    const snapshot = await inventory.list();
    clock.now += 5_000;
    await inventory.list();
    expect(snapshot).toMatchObject({ kind: 'nvidia', devices: [], processes: [], problem: 'nvidia-smi was not found (is the NVIDIA driver installed?)' });
    expect(warnings()).toEqual(['GPU sample skipped: nvidia-smi was not found (is the NVIDIA driver installed?); no GPUs, CPU jobs still run']);
  });

  it('reports a failing nvidia-smi with its message before any good sample', async () => {
    const { inventory, state } = fakeSmi(H100X8);
    state.failure = new NvidiaSmiError('failed', "nvidia-smi --query-gpu exited with 9: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.");
    expect(await inventory.list()).toEqual({ kind: 'nvidia', sampledAt: 1_000_000, devices: [], processes: [], problem: state.failure.message });
  });

  it('logs the lines it skipped once, not at every sample', async () => {
    const { inventory, clock, warnings, entries } = fakeSmi({ ...H100X8, 'query-gpu': readFixture('garbage-query-gpu.csv') });
    expect((await inventory.list()).devices.map((device) => device.index)).toEqual([0, 4]);
    clock.now += 5_000;
    await inventory.list();
    expect(warnings()).toEqual(['nvidia-smi printed lines that were skipped']);
    expect(entries()[0]!.skipped).toHaveLength(4);
  });

  it('lets an error that is not nvidia-smi failing reach the caller', async () => {
    const { inventory, state } = fakeSmi(H100X8);
    state.outputs = undefined as unknown as Outputs;
    await expect(inventory.list()).rejects.toThrow(TypeError);
  });
});
