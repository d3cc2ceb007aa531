import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createAccounting } from '../../src/accounting/accounting.ts';
import type { UsageQuery } from '../../src/accounting/usage-query.ts';
import type { UsageFigures, UsageReport } from '../../src/accounting/usage-report.ts';
import type { GpuSnapshot } from '../../src/gpu/gpu-types.ts';
import type { MonitorSample } from '../../src/monitoring/sample.ts';
import type { JobRecord } from '../../src/scheduler/jobs.ts';
import { ADMIN, MEMBER, createTestApp, type TestApp } from '../helpers/test-app.ts';
import { GIB, HOUR, at, containerReading, gpuReading, handScheduler, sampleRound } from './usage-fixtures.ts';

const figures = (partial: Partial<UsageFigures>): UsageFigures => ({
  allocatedGpuHours: 0, usedGpuHours: 0, measuredGpuHours: 0, utilization: null, cpuHours: 0, memoryGibHours: 0, jobs: 0, ...partial,
});
/** The report as `{group: {day or total: figures}}`, for comparing with the hand-computed numbers. */
function byGroupAndDay(report: UsageReport): Record<string, Record<string, UsageFigures>> {
  return Object.fromEntries(report.groups.map((group) => [group.name, Object.fromEntries([...group.days.map(({ day, ...rest }) => [day, rest]), ['total', group.total]])]));
}

describe('usage accounting on whole GPUs and slices', () => {
  let t: TestApp;
  let gpus: string[];
  /** Still running at the end. */
  let pair: JobRecord;
  const usage = (username: string, query: Partial<UsageQuery>) => t.app.accounting.usage(t.app.users.get(username), { from: '2026-11-22', to: '2026-11-23', by: 'project', ...query });

  beforeAll(async () => {
    t = await createTestApp();
    gpus = (await t.app.gpus.list()).devices.map((device) => device.uuid);
    t.app.projects.create({ name: 'vision', description: '' }, { actor: 'test' });
    const jobs = handScheduler(t);

    // Mia's job on GPU 0 runs across midnight: 1 h on the 22nd, 1.5 h on the 23rd.
    const crossing = jobs.submit(MEMBER.username, { gpus: 1 }, '2026-11-22T22:00:00Z');
    jobs.start(crossing, [gpus[0]!], '2026-11-22T23:00:00Z');
    // The admin's 20 GiB slice of GPU 1 (a quarter) in vision runs twice: 1 h, preempted, then 2 h.
    const slice = jobs.submit(ADMIN.username, { gpuMemory: '20GiB', project: 'vision' }, '2026-11-22T11:00:00Z');
    jobs.start(slice, [gpus[1]!], '2026-11-22T12:00:00Z');
    jobs.requeue(slice, '2026-11-22T13:00:00Z');
    jobs.start(slice, [gpus[1]!], '2026-11-22T14:00:00Z');
    jobs.finish(slice, '2026-11-22T16:00:00Z');
    // Mia's two-GPU job started at 20:00 and still runs at 02:00: 8 GPU-hours on the 22nd, 4 on the 23rd.
    pair = jobs.submit(MEMBER.username, { gpus: 2 }, '2026-11-22T19:00:00Z');
    pair = jobs.start(pair, [gpus[2]!, gpus[3]!], '2026-11-22T20:00:00Z');
    jobs.finish(crossing, '2026-11-23T01:30:00Z');
    // A job that never ran counts nowhere.
    jobs.submit(MEMBER.username, { gpus: 1 }, '2026-11-22T09:00:00Z');

    // One round of an hour across midnight: the crossing job at 50% with 2 cores and 4 GiB, half an hour on each day.
    t.app.bus.publish('monitoring.sample', sampleRound('2026-11-23T00:30:00Z', HOUR, [gpuReading(gpus[0]!, 0.5, [{ jobId: crossing.id }])], [containerReading(crossing.id, 2, 4 * GIB)]));
    // The slice's first attempt at 80% of the GPU.
    t.app.bus.publish('monitoring.sample', sampleRound('2026-11-22T13:00:00Z', HOUR, [gpuReading(gpus[1]!, 0.8, [{ jobId: slice.id }])]));
    t.clock.now = at('2026-11-23T02:00:00Z');
  });

  it('counts allocated GPU-hours from the scheduler and used ones from the samples, per project and day', async () => {
    const report = await usage(ADMIN.username, {});
    expect(report).toMatchObject({ from: '2026-11-22', to: '2026-11-23', by: 'project', timeZone: 'UTC' });
    expect(report.groups.map((group) => group.name)).toEqual(['default', 'vision']);
    expect(byGroupAndDay(report)).toEqual({
      default: {
        '2026-11-22': figures({ allocatedGpuHours: 9, usedGpuHours: 0.25, measuredGpuHours: 0.5, utilization: 0.5, cpuHours: 1, memoryGibHours: 2, jobs: 2 }),
        '2026-11-23': figures({ allocatedGpuHours: 5.5, usedGpuHours: 0.25, measuredGpuHours: 0.5, utilization: 0.5, cpuHours: 1, memoryGibHours: 2, jobs: 2 }),
        total: figures({ allocatedGpuHours: 14.5, usedGpuHours: 0.5, measuredGpuHours: 1, utilization: 0.5, cpuHours: 2, memoryGibHours: 4, jobs: 2 }),
      },
      vision: {
        '2026-11-22': figures({ allocatedGpuHours: 0.75, usedGpuHours: 0.2, measuredGpuHours: 0.25, utilization: 0.8, jobs: 1 }),
        total: figures({ allocatedGpuHours: 0.75, usedGpuHours: 0.2, measuredGpuHours: 0.25, utilization: 0.8, jobs: 1 }),
      },
    });
    expect(report.total).toEqual(figures({ allocatedGpuHours: 15.25, usedGpuHours: 0.7, measuredGpuHours: 1.25, utilization: 0.56, cpuHours: 2, memoryGibHours: 4, jobs: 3 }));
  });

  it('groups by user, and by day alone', async () => {
    const byUser = byGroupAndDay(await usage(ADMIN.username, { by: 'user' }));
    expect(Object.keys(byUser)).toEqual([MEMBER.username, ADMIN.username]);
    expect(byUser[MEMBER.username]!.total).toMatchObject({ allocatedGpuHours: 14.5, jobs: 2 });
    expect(byUser[ADMIN.username]!.total).toMatchObject({ allocatedGpuHours: 0.75, jobs: 1 });
    const byDay = await usage(ADMIN.username, { by: 'day' });
    expect(byDay.groups.map((group) => [group.name, group.days.map((day) => [day.day, day.allocatedGpuHours])])).toEqual([
      ['all', [['2026-11-22', 9.75], ['2026-11-23', 5.5]]],
    ]);
  });

  it('counts only the part of the range asked for, and nothing after now', async () => {
    const lastDay = byGroupAndDay(await usage(ADMIN.username, { from: '2026-11-23', to: '2026-11-30' }));
    expect(Object.keys(lastDay)).toEqual(['default']);
    expect(lastDay.default!.total).toMatchObject({ allocatedGpuHours: 5.5, usedGpuHours: 0.25, jobs: 2 });
    expect((await usage(ADMIN.username, { from: '2026-11-01', to: '2026-11-21' })).groups).toEqual([]);
  });

  it('shows a member only their own usage by user and the projects they belong to', async () => {
    expect((await usage(MEMBER.username, {})).groups.map((group) => group.name)).toEqual(['default']);
    expect((await usage(MEMBER.username, { by: 'user' })).groups.map((group) => [group.name, group.total.allocatedGpuHours])).toEqual([[MEMBER.username, 14.5]]);
    const days = await usage(MEMBER.username, { by: 'day' });
    expect(days.total.allocatedGpuHours).toBe(14.5);
  });

  it('keeps recording, and never throws into the bus, when a round cannot be recorded', async () => {
    const errors = vi.spyOn(t.app.log, 'error');
    const broken = { ...sampleRound('2026-11-23T01:00:00Z', 5000, []), gpus: null } as unknown as MonitorSample;
    expect(() => t.app.bus.publish('monitoring.sample', broken)).not.toThrow();
    expect(() => t.app.bus.publish('monitoring.sample', broken)).not.toThrow();
    expect(errors).toHaveBeenCalledTimes(1);
    // A job the database does not know is left out; the round's other jobs are recorded.
    t.app.bus.publish('monitoring.sample', sampleRound('2026-11-23T01:00:00Z', HOUR, [], [containerReading(9999, 1, 0), containerReading(pair.id, 1, 0)]));
    const report = await usage(ADMIN.username, { from: '2026-11-23', to: '2026-11-23' });
    expect(report.groups.find((group) => group.name === 'default')!.total).toMatchObject({ cpuHours: 2, jobs: 2 });
  });
});

describe('usage accounting on MIG devices', () => {
  it("counts a MIG device's memory share as allocated and its use as unknown", async () => {
    const t = await createTestApp();
    const a100: GpuSnapshot = {
      kind: 'nvidia',
      sampledAt: 0,
      processes: [],
      devices: [
        {
          index: 0, uuid: 'GPU-a100', name: 'NVIDIA A100-SXM4-80GB', memoryTotal: 80 * GIB, memoryUsed: null, memoryFree: null, utilization: null,
          temperature: null, powerDraw: null, powerLimit: null, migMode: 'enabled',
          migDevices: [{ uuid: 'MIG-3g', parentUuid: 'GPU-a100', index: 0, profile: '3g.40gb', memoryTotal: 40 * GIB, memoryUsed: null, memoryFree: null }],
        },
      ],
    };
    const accounting = createAccounting({ ...t.app, gpus: { list: async () => a100 } });
    const jobs = handScheduler(t);
    const job = jobs.submit(MEMBER.username, { gpus: 1 }, '2026-11-22T09:00:00Z');
    jobs.start(job, ['MIG-3g'], '2026-11-22T10:00:00Z');
    jobs.finish(job, '2026-11-22T12:00:00Z');
    t.app.bus.publish('monitoring.sample', sampleRound('2026-11-22T11:00:00Z', HOUR, [gpuReading('GPU-a100', null, [{ jobId: job.id, unitUuid: 'MIG-3g' }])], [containerReading(job.id, 1, GIB)]));

    const report = await accounting.usage(t.app.users.get(ADMIN.username), { from: '2026-11-22', to: '2026-11-22', by: 'project' });
    expect(report.total).toEqual(figures({ allocatedGpuHours: 1, cpuHours: 1, memoryGibHours: 1, jobs: 1 }));
  });
});

describe('usage accounting of the sampler\'s own rounds', () => {
  it('records each round the sampler publishes, with the GPU utilization it read', async () => {
    const t = await createTestApp({ sampleIntervalMs: 5000 });
    const gpu = (await t.app.gpus.list()).devices[0]!.uuid;
    const jobs = handScheduler(t);
    jobs.start(jobs.submit(MEMBER.username, { gpus: 1 }, '2026-11-22T09:00:00Z'), [gpu], '2026-11-22T10:00:00Z');
    t.app.gpus.setLoad(gpu, 0.6, GIB);
    t.clock.now = at('2026-11-22T10:00:05Z');
    await t.app.monitoring.sampleOnce();
    t.clock.now = at('2026-11-22T10:00:10Z');
    await t.app.monitoring.sampleOnce();

    const report = await t.app.accounting.usage(t.app.users.get(ADMIN.username), { from: '2026-11-22', to: '2026-11-22', by: 'project' });
    // Two rounds of 5 s on one whole GPU at 60%; allocated from 10:00:00 to now, 10 s.
    expect(report.total).toMatchObject({ allocatedGpuHours: 0.0028, measuredGpuHours: 0.0028, usedGpuHours: 0.0017, utilization: 0.6, jobs: 1 });
  });
});
