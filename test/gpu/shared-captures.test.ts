import { describe, expect, it } from 'vitest';
import { placeableUnits, withMigDevices } from '../../src/gpu/mig-devices.ts';
import { parseComputeApps } from '../../src/gpu/parse-compute-apps.ts';
import { parseGpuList } from '../../src/gpu/parse-gpu-list.ts';
import { parseMigMemory } from '../../src/gpu/parse-mig-memory.ts';
import { parseQueryGpu } from '../../src/gpu/parse-query-gpu.ts';
import { MIB, captureSection, hasSharedFixtures } from './gpu-fixtures.ts';

// Real captures of nvidia_gpu_exporter (see ../shared/fixtures/nvidia-smi/SOURCES.txt): `--format=csv` with a
// header, units and some two hundred fields, which the parsers read by column name. The telegraf captures are
// `nvidia-smi -q -x` XML, a format the appliance does not read.
const PLAIN = 'nvidia_gpu_exporter__linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01.txt';
const MIG = 'nvidia_gpu_exporter__linux-x86_64__nvidia-h100-mig__590.48.01.txt';
const GPU_UUID = 'GPU-00000000-0000-0000-0000-000000000000';

describe.skipIf(!hasSharedFixtures)('real nvidia-smi captures in ../shared', () => {
  it.each([
    [PLAIN, 'idle', { utilization: 0, memoryUsed: 0, memoryFree: 81081 * MIB, temperature: 41, powerDraw: 69.85, migMode: 'disabled' }],
    [PLAIN, 'load', { utilization: 1, memoryUsed: 19818 * MIB, memoryFree: 61263 * MIB, temperature: 59, powerDraw: 631.95, migMode: 'disabled' }],
    [MIG, 'idle', { utilization: null, memoryUsed: 59 * MIB, temperature: 42, powerDraw: 71.15, migMode: 'enabled' }],
    [MIG, 'load', { utilization: null, memoryUsed: 11125 * MIB, memoryFree: 69956 * MIB, temperature: 53, powerDraw: 433.78, migMode: 'enabled' }],
  ])('reads --query-gpu of %s (%s)', (file, phase, expected) => {
    const { gpus, skipped } = parseQueryGpu(captureSection(file, `${phase} :: query-gpu`));
    expect(skipped).toEqual([]);
    expect(gpus).toHaveLength(1);
    expect(gpus[0]).toMatchObject({ index: 0, uuid: GPU_UUID, name: 'NVIDIA H100 80GB HBM3', memoryTotal: 81559 * MIB, powerLimit: 700, ...expected });
  });

  it.each([
    [PLAIN, 'idle', []],
    [PLAIN, 'load', [11327, 11328, 11345]],
    [MIG, 'idle', []],
    [MIG, 'load', [21180, 21181, 21198]],
  ])('reads --query-compute-apps of %s (%s)', (file, phase, pids) => {
    const { processes, skipped } = parseComputeApps(captureSection(file, `${phase} :: query-compute-apps`));
    expect(skipped).toEqual([]);
    expect(processes.map((app) => app.pid)).toEqual(pids);
    expect(processes.every((app) => app.gpuUuid === GPU_UUID && app.usedMemory! > 1000 * MIB)).toBe(true);
  });

  it('reads -L of a plain H100: one GPU, no MIG devices', () => {
    expect(parseGpuList(captureSection(PLAIN, 'capabilities :: list (-L)'))).toEqual({
      gpus: [{ index: 0, name: 'NVIDIA H100 80GB HBM3', uuid: GPU_UUID, migDevices: [] }],
      skipped: [],
    });
  });

  it('reads -L and -q of an H100 in MIG mode into four placeable MIG devices with their memory', () => {
    const gpus = parseQueryGpu(captureSection(MIG, 'load :: query-gpu')).gpus;
    const listed = parseGpuList(captureSection(MIG, 'capabilities :: list (-L)'));
    expect(listed.skipped).toEqual([]);
    const memory = parseMigMemory(captureSection(MIG, 'load :: query (-q)'));
    const devices = withMigDevices(gpus, listed.gpus, memory);
    expect(devices[0]!.migDevices.map((mig) => [mig.profile, mig.memoryTotal! / MIB, mig.memoryUsed! / MIB])).toEqual([
      ['3g.40gb', 40448, 11091],
      ['2g.20gb', 20096, 17],
      ['1g.10gb', 9984, 9],
      ['1g.10gb', 9984, 9],
    ]);
    expect(placeableUnits({ kind: 'nvidia', sampledAt: 0, devices, processes: [] }).map((unit) => unit.uuid)).toEqual([
      'MIG-00000000-0000-0000-0000-000000000000',
      'MIG-00000001-0000-0000-0000-000000000001',
      'MIG-00000002-0000-0000-0000-000000000002',
      'MIG-00000003-0000-0000-0000-000000000003',
    ]);
  });

  it('finds no MIG devices in -q of a plain H100', () => {
    expect(parseMigMemory(captureSection(PLAIN, 'load :: query (-q)'))).toEqual(new Map([[GPU_UUID, new Map()]]));
  });
});
