import { describe, expect, it } from 'vitest';
import { gpuShares } from '../../src/accounting/gpu-share.ts';
import { usageOfRound } from '../../src/accounting/sample-usage.ts';
import { usageQuerySchema } from '../../src/accounting/usage-query.ts';
import { isDay, secondsByDay } from '../../src/accounting/utc-days.ts';
import type { GpuDevice, GpuSnapshot } from '../../src/gpu/gpu-types.ts';
import type { GpuReading, MonitorSample } from '../../src/monitoring/sample.ts';

const GB = 1e9;
const at = (iso: string) => Date.parse(iso);

function device(uuid: string, memoryTotal: number, migDevices: Array<{ uuid: string; memoryTotal: number | null }> = []): GpuDevice {
  return {
    index: 0, uuid, name: 'NVIDIA A100 80GB', memoryTotal, memoryUsed: 0, memoryFree: memoryTotal, utilization: null, temperature: null,
    powerDraw: null, powerLimit: null, migMode: migDevices.length ? 'enabled' : 'disabled',
    migDevices: migDevices.map((mig, index) => ({ ...mig, parentUuid: uuid, index, profile: '3g.40gb', memoryUsed: null, memoryFree: null })),
  };
}

describe('UTC days', () => {
  it.each([
    ['within a day', '2026-11-22T10:00:00Z', '2026-11-22T10:30:00Z', [['2026-11-22', 1800]]],
    ['across midnight', '2026-11-22T23:59:58Z', '2026-11-23T00:00:05Z', [['2026-11-22', 2], ['2026-11-23', 5]]],
    ['over a whole day', '2026-11-21T12:00:00Z', '2026-11-23T06:00:00Z', [['2026-11-21', 43_200], ['2026-11-22', 86_400], ['2026-11-23', 21_600]]],
    ['ending at midnight', '2026-11-22T23:00:00Z', '2026-11-23T00:00:00Z', [['2026-11-22', 3600]]],
    ['of no length', '2026-11-22T10:00:00Z', '2026-11-22T10:00:00Z', []],
    ['backwards', '2026-11-22T10:00:00Z', '2026-11-22T09:00:00Z', []],
  ])('cuts a stretch %s at midnight', (_name, start, end, expected) => {
    expect(secondsByDay(at(start), at(end)).map(({ day, seconds }) => [day, seconds])).toEqual(expected);
  });

  it.each([
    ['2026-11-22', true],
    ['2024-02-29', true],
    ['2026-02-29', false],
    ['2026-13-01', false],
    ['2026-1-5', false],
    ['yesterday', false],
  ])('%s is a day: %s', (text, expected) => {
    expect(isDay(text)).toBe(expected);
  });
});

describe('report ranges', () => {
  const today = at('2026-11-22T12:00:00Z');
  const parse = (input: Record<string, string>) => usageQuerySchema(today).safeParse(input);

  it('defaults to the week up to today, by project', () => {
    expect(parse({}).data).toEqual({ from: '2026-11-16', to: '2026-11-22', by: 'project' });
    expect(parse({ to: '2026-03-02', by: 'user' }).data).toEqual({ from: '2026-02-24', to: '2026-03-02', by: 'user' });
    expect(parse({ from: '2025-11-22', to: '2026-11-22' }).data).toMatchObject({ from: '2025-11-22', to: '2026-11-22' });
  });

  it.each([
    [{ from: '2026-02-30' }, 'write a day as YYYY-MM-DD, like 2026-11-22; got "2026-02-30"'],
    [{ from: '2026-11-23', to: '2026-11-22' }, 'from (2026-11-23) is after to (2026-11-22)'],
    [{ from: '2025-11-21', to: '2026-11-22' }, 'from 2025-11-21 to 2026-11-22 is 367 days; a report covers at most 366'],
    [{ by: 'team' }, 'one of project, user, day; got "team"'],
    [{ month: '11' }, 'Unrecognized key: "month"'],
  ])('refuses %j', (input, message) => {
    expect(parse(input).error?.issues[0]?.message).toBe(message);
  });
});

describe('GPU shares', () => {
  const snapshot: GpuSnapshot = {
    kind: 'nvidia',
    sampledAt: 0,
    processes: [],
    devices: [device('GPU-whole', 80 * GB), device('GPU-mig', 80 * GB, [{ uuid: 'MIG-half', memoryTotal: 40 * GB }, { uuid: 'MIG-unknown', memoryTotal: null }])],
  };
  const shareOf = gpuShares(snapshot);

  it.each([
    ['a whole GPU', { gpus: 1, gpuMemory: null, gpuUuids: ['GPU-whole'] }, 1],
    ['a 40 GB MIG device of an 80 GB GPU', { gpus: 1, gpuMemory: null, gpuUuids: ['MIG-half'] }, 0.5],
    ['a whole GPU and a MIG device', { gpus: 2, gpuMemory: null, gpuUuids: ['GPU-whole', 'MIG-half'] }, 1.5],
    ['a MIG device of unknown memory', { gpus: 1, gpuMemory: null, gpuUuids: ['MIG-unknown'] }, 1],
    ['20 GB of an 80 GB GPU', { gpus: 0, gpuMemory: 20 * GB, gpuUuids: ['GPU-whole'] }, 0.25],
    ['20 GB of a 40 GB MIG device', { gpus: 0, gpuMemory: 20 * GB, gpuUuids: ['MIG-half'] }, 0.25],
    ['a slice larger than its GPU', { gpus: 0, gpuMemory: 100 * GB, gpuUuids: ['GPU-whole'] }, 1],
    ['a GPU no longer listed', { gpus: 1, gpuMemory: null, gpuUuids: ['GPU-gone'] }, 1],
    ['a slice waiting to be placed again', { gpus: 0, gpuMemory: 40 * GB, gpuUuids: [] }, 0.5],
    ['two GPUs waiting to be placed again', { gpus: 2, gpuMemory: null, gpuUuids: [] }, 2],
    ['no GPU', { gpus: 0, gpuMemory: null, gpuUuids: [] }, 0],
  ])('%s counts as %s', (_name, holding, expected) => {
    expect(shareOf(holding)).toBe(expected);
  });

  it('counts a slice as nothing where no GPU is known at all', () => {
    expect(gpuShares({ kind: 'none', sampledAt: 0, devices: [], processes: [] })({ gpus: 0, gpuMemory: GB, gpuUuids: [] })).toBe(0);
  });
});

describe('a sampler round', () => {
  const gpu = (uuid: string, utilization: number | null, holders: GpuReading['holders'], memoryTotal: number | null = 80 * GB): GpuReading => ({
    uuid, index: 0, name: 'GPU', utilization, memoryUsed: null, memoryTotal, temperature: null, powerDraw: null, powerLimit: null, holders,
  });
  const holder = (jobId: number, unitUuid: string) => ({ jobId, unitUuid, deploymentId: null });
  const round = (overrides: Partial<MonitorSample>): MonitorSample => ({ at: at('2026-11-22T12:00:10Z'), intervalMs: 10_000, gpus: [], host: null, containers: [], skipped: [], ...overrides });
  /** Job 1 holds whole GPUs, job 2 a 20 GB slice, job 3 a MIG device; job 9 does not exist. */
  const gpuMemoryOf = (id: number) => ({ 1: null, 2: 20 * GB, 3: null })[id as 1 | 2 | 3];
  const figures = (sample: MonitorSample) =>
    usageOfRound(sample, gpuMemoryOf).map(({ jobId, day, gpuSecondsUsed, gpuSecondsMeasured, cpuSeconds, memoryByteSeconds, sampledSeconds }) => ({
      jobId, day, used: gpuSecondsUsed, measured: gpuSecondsMeasured, cpu: cpuSeconds, memory: memoryByteSeconds, sampled: sampledSeconds,
    }));
  const day = '2026-11-22';

  it.each([
    ['a whole GPU at 60%', round({ gpus: [gpu('GPU-a', 0.6, [holder(1, 'GPU-a')])] }), [{ jobId: 1, day, used: 6, measured: 10, cpu: 0, memory: 0, sampled: 0 }]],
    [
      'two whole GPUs of one job',
      round({ gpus: [gpu('GPU-a', 0.5, [holder(1, 'GPU-a')]), gpu('GPU-b', 1, [holder(1, 'GPU-b')])] }),
      [{ jobId: 1, day, used: 15, measured: 20, cpu: 0, memory: 0, sampled: 0 }],
    ],
    [
      'a slice: the GPU\'s utilization over its quarter',
      round({ gpus: [gpu('GPU-a', 0.8, [holder(2, 'GPU-a')])] }),
      [{ jobId: 2, day, used: 2, measured: 2.5, cpu: 0, memory: 0, sampled: 0 }],
    ],
    ['a slice on a GPU of unknown memory: not measured', round({ gpus: [gpu('GPU-a', 0.8, [holder(2, 'GPU-a')], null)] }), []],
    ['a MIG device: unknown, neither used nor measured', round({ gpus: [gpu('GPU-m', null, [holder(3, 'MIG-x')])] }), []],
    ['a GPU whose utilization could not be read', round({ gpus: [gpu('GPU-a', null, [holder(1, 'GPU-a')])] }), []],
    [
      'a container: cores, bytes and time',
      round({ containers: [{ jobId: 1, deploymentId: null, cpu: 1.5, memoryBytes: 2 * GB, gpuMemoryBytes: null }] }),
      [{ jobId: 1, day, used: 0, measured: 0, cpu: 15, memory: 20 * GB, sampled: 10 }],
    ],
    [
      'a container whose readings failed: sampled, nothing used',
      round({ containers: [{ jobId: 3, deploymentId: null, cpu: null, memoryBytes: null, gpuMemoryBytes: null }] }),
      [{ jobId: 3, day, used: 0, measured: 0, cpu: 0, memory: 0, sampled: 10 }],
    ],
    [
      'a job that does not exist: left out',
      round({ gpus: [gpu('GPU-a', 1, [holder(9, 'GPU-a')])], containers: [{ jobId: 9, deploymentId: null, cpu: 1, memoryBytes: 1, gpuMemoryBytes: null }] }),
      [],
    ],
    [
      'a round across midnight: split by the time on each side',
      round({ at: at('2026-11-23T00:00:04Z'), intervalMs: 10_000, gpus: [gpu('GPU-a', 0.5, [holder(1, 'GPU-a')])] }),
      [
        { jobId: 1, day: '2026-11-22', used: 3, measured: 6, cpu: 0, memory: 0, sampled: 0 },
        { jobId: 1, day: '2026-11-23', used: 2, measured: 4, cpu: 0, memory: 0, sampled: 0 },
      ],
    ],
  ])('%s', (_name, sample, expected) => {
    expect(figures(sample)).toEqual(expected);
  });
});
