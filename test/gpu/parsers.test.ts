import { describe, expect, it } from 'vitest';
import { placeableUnits, withMigDevices } from '../../src/gpu/mig-devices.ts';
import { parseComputeApps } from '../../src/gpu/parse-compute-apps.ts';
import { parseGpuList } from '../../src/gpu/parse-gpu-list.ts';
import { parseMigMemory } from '../../src/gpu/parse-mig-memory.ts';
import { parseQueryGpu } from '../../src/gpu/parse-query-gpu.ts';
import { readNumber } from '../../src/gpu/smi-csv.ts';
import { MIB, readFixture } from './gpu-fixtures.ts';

const MIG_GPU = 'GPU-00000000-0000-0000-0000-000000000000';

describe('readings', () => {
  it.each([
    ['42', 42],
    ['69.85', 69.85],
    ['81559 MiB', 81559],
    ['71.15 W', 71.15],
    ['100 %', 100],
    ['[N/A]', null],
    ['N/A', null],
    ['[Not Supported]', null],
    ['[Unknown Error]', null],
    ['[Requested functionality has been deprecated]', null],
    ['', null],
    ['lots', null],
  ])('%j reads as %j', (value, expected) => {
    expect(readNumber(value)).toBe(expected);
  });
});

describe('nvidia-smi --query-gpu', () => {
  it('reads eight H100s in bytes, ratios and watts', () => {
    const { gpus, skipped } = parseQueryGpu(readFixture('h100x8-query-gpu.csv'));
    expect(skipped).toEqual([]);
    expect(gpus.map((gpu) => gpu.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(new Set(gpus.map((gpu) => gpu.uuid)).size).toBe(8);
    expect(gpus[1]).toEqual({
      index: 1,
      uuid: 'GPU-a33f483a-0499-6e2f-9479-327f84b7c863',
      name: 'NVIDIA H100 80GB HBM3',
      memoryTotal: 81559 * MIB,
      memoryUsed: 19818 * MIB,
      memoryFree: 61263 * MIB,
      utilization: 1,
      temperature: 59,
      powerDraw: 631.95,
      powerLimit: 700,
      migMode: 'disabled',
    });
    expect(gpus[2]!.utilization).toBeCloseTo(0.87);
  });

  it('reads an H100 in MIG mode, whose utilization nvidia-smi does not report', () => {
    const { gpus } = parseQueryGpu(readFixture('h100-mig-query-gpu.csv'));
    expect(gpus).toMatchObject([{ uuid: MIG_GPU, migMode: 'enabled', utilization: null, memoryUsed: 11125 * MIB, powerDraw: 433.78 }]);
  });

  it('turns [N/A], [Not Supported] and N/A into null, not zero', () => {
    const { gpus, skipped } = parseQueryGpu(readFixture('consumer-na-query-gpu.csv'));
    expect(skipped).toEqual([]);
    expect(gpus[0]).toMatchObject({ name: 'NVIDIA GeForce RTX 3090', memoryTotal: 24576 * MIB, utilization: 0, powerDraw: 27.23, migMode: null });
    expect(gpus[1]).toMatchObject({
      name: 'NVIDIA GeForce GTX 1650 with Max-Q Design',
      memoryTotal: 4096 * MIB,
      utilization: null,
      temperature: 44,
      powerDraw: null,
      powerLimit: null,
      migMode: null,
    });
  });

  it('skips blank lines, garbage and broken rows with a reason, and keeps the good rows', () => {
    const { gpus, skipped } = parseQueryGpu(readFixture('garbage-query-gpu.csv'));
    expect(gpus.map((gpu) => [gpu.index, gpu.migMode, gpu.powerLimit])).toEqual([
      [0, 'disabled', 700],
      [4, 'disabled', 700],
    ]);
    expect(skipped.map((entry) => entry.reason)).toEqual([
      'expected 11 comma-separated fields, found 1',
      'expected 11 comma-separated fields, found 5',
      'index "ERR!" is not a number',
      'uuid "[Unknown Error]" is not a GPU UUID',
    ]);
    expect(skipped[0]!.line).toBe('Unable to determine the device handle for GPU 0000:3B:00.0: Unknown Error');
  });

  it('reads nothing from empty output', () => {
    expect(parseQueryGpu('\n\n')).toEqual({ gpus: [], skipped: [] });
  });
});

describe('nvidia-smi -L', () => {
  it('lists MIG devices under their GPU', () => {
    const { gpus, skipped } = parseGpuList(readFixture('h100-mig-list.txt'));
    expect(skipped).toEqual([]);
    expect(gpus).toHaveLength(1);
    expect(gpus[0]!.migDevices).toEqual([
      { index: 0, profile: '3g.40gb', uuid: 'MIG-00000000-0000-0000-0000-000000000000' },
      { index: 1, profile: '2g.20gb', uuid: 'MIG-00000001-0000-0000-0000-000000000001' },
      { index: 2, profile: '1g.10gb', uuid: 'MIG-00000002-0000-0000-0000-000000000002' },
      { index: 3, profile: '1g.10gb', uuid: 'MIG-00000003-0000-0000-0000-000000000003' },
    ]);
  });

  it('lists GPUs without MIG devices', () => {
    const { gpus } = parseGpuList(readFixture('h100x8-list.txt'));
    expect(gpus).toHaveLength(8);
    expect(gpus[7]).toEqual({ index: 7, name: 'NVIDIA H100 80GB HBM3', uuid: 'GPU-f65dd647-dbd3-7e7d-b403-86c64bc1cecf', migDevices: [] });
  });

  it('reads the MIG UUIDs of drivers before R470 and skips what it does not know', () => {
    const text = [
      '  MIG 1g.5gb Device 0: (UUID: MIG-GPU-aaaa/1/0)',
      'GPU 0: A100-SXM4-40GB (UUID: GPU-5a8b7c6d-1111-2222-3333-444455556666)  ',
      '  MIG 1g.5gb Device 0: (UUID: MIG-GPU-5a8b7c6d-1111-2222-3333-444455556666/7/0)',
      'No devices were found',
    ].join('\n');
    const { gpus, skipped } = parseGpuList(text);
    expect(gpus[0]!.migDevices).toEqual([{ index: 0, profile: '1g.5gb', uuid: 'MIG-GPU-5a8b7c6d-1111-2222-3333-444455556666/7/0' }]);
    expect(skipped.map((entry) => entry.reason)).toEqual(['a MIG device before any GPU', 'neither a GPU nor a MIG device']);
  });
});

describe('nvidia-smi --query-compute-apps', () => {
  it('reads processes with their memory in bytes', () => {
    const { processes, skipped } = parseComputeApps(readFixture('h100x8-compute-apps.csv'));
    expect(skipped).toEqual([]);
    expect(processes).toHaveLength(6);
    expect(processes[0]).toEqual({ pid: 11345, gpuUuid: 'GPU-a33f483a-0499-6e2f-9479-327f84b7c863', usedMemory: 15690 * MIB });
  });

  it.each([
    ['no processes', '', 0, 0],
    ['the sentence some drivers print instead', 'No running processes found\n', 0, 0],
    ['memory it cannot read', `${MIG_GPU}, 77, [N/A]\n`, 1, 0],
    ['garbage', `${MIG_GPU}, 77, 100\nsegfault\n${MIG_GPU}, seventy, 5\n`, 1, 2],
  ])('copes with %s', (_name, text, processCount, skippedCount) => {
    const { processes, skipped } = parseComputeApps(text);
    expect([processes.length, skipped.length]).toEqual([processCount, skippedCount]);
    if (processCount > 0) expect(processes[0]!.pid).toBe(77);
  });
});

describe('MIG devices', () => {
  const gpus = parseQueryGpu(readFixture('h100-mig-query-gpu.csv')).gpus;
  const listed = parseGpuList(readFixture('h100-mig-list.txt')).gpus;

  it('finds each MIG device memory in nvidia-smi -q, not the GPU memory', () => {
    const memory = parseMigMemory(readFixture('h100-mig-query.txt'));
    expect([...memory.keys()]).toEqual([MIG_GPU]);
    expect(memory.get(MIG_GPU)).toEqual(
      new Map([
        [0, { total: 40448 * MIB, used: 11091 * MIB, free: 29357 * MIB }],
        [1, { total: 20096 * MIB, used: 17 * MIB, free: 20080 * MIB }],
        [2, { total: 9984 * MIB, used: 9 * MIB, free: 9976 * MIB }],
        [3, { total: 9984 * MIB, used: 9 * MIB, free: 9976 * MIB }],
      ]),
    );
  });

  it('makes MIG devices the placeable units of a GPU in MIG mode', () => {
    const devices = withMigDevices(gpus, listed, parseMigMemory(readFixture('h100-mig-query.txt')));
    expect(devices[0]!.migDevices[0]).toEqual({
      uuid: 'MIG-00000000-0000-0000-0000-000000000000',
      parentUuid: MIG_GPU,
      index: 0,
      profile: '3g.40gb',
      memoryTotal: 40448 * MIB,
      memoryUsed: 11091 * MIB,
      memoryFree: 29357 * MIB,
    });
    const units = placeableUnits({ kind: 'nvidia', sampledAt: 0, devices, processes: [] });
    expect(units.map((unit) => [unit.uuid, unit.parentUuid, unit.memoryFree])).toEqual([
      ['MIG-00000000-0000-0000-0000-000000000000', MIG_GPU, 29357 * MIB],
      ['MIG-00000001-0000-0000-0000-000000000001', MIG_GPU, 20080 * MIB],
      ['MIG-00000002-0000-0000-0000-000000000002', MIG_GPU, 9976 * MIB],
      ['MIG-00000003-0000-0000-0000-000000000003', MIG_GPU, 9976 * MIB],
    ]);
    expect(units[0]!.name).toBe('NVIDIA H100 80GB HBM3 MIG 3g.40gb');
  });

  it('estimates a MIG device memory from its profile, on the low side, when -q does not say', () => {
    const devices = withMigDevices(gpus, listed, new Map());
    expect(devices[0]!.migDevices.map((mig) => mig.memoryTotal)).toEqual([40e9, 20e9, 10e9, 10e9]);
    expect(40e9).toBeLessThan(40448 * MIB);
  });

  it('places whole GPUs when MIG is off', () => {
    const devices = withMigDevices(parseQueryGpu(readFixture('h100x8-query-gpu.csv')).gpus, [], new Map());
    const units = placeableUnits({ kind: 'nvidia', sampledAt: 0, devices, processes: [] });
    expect(units).toHaveLength(8);
    expect(units[0]).toEqual({ uuid: 'GPU-8b58ab31-0132-ba51-d292-903b4073d557', name: 'NVIDIA H100 80GB HBM3', parentUuid: null, memoryTotal: 81559 * MIB, memoryUsed: 0, memoryFree: 81081 * MIB });
  });
});
