import { describe, expect, it } from 'vitest';
import { planPlacement } from '../../src/scheduler/plan-placement.ts';
import type { QueuedJob, RunningJob } from '../../src/scheduler/placement-types.ts';
import { runPlacementCases } from './placement-cases.ts';
import { HOUR, MINUTE, NOW, h100s, queued, running, world } from './placement-world.ts';

const gpuIds = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `GPU-${from + i}`);
/** Someone outside the queue holding GPUs `from`..`to` for good. */
const carl = (from: number, to: number) => running('carl', gpuIds(from, to), { gpus: to - from + 1 }, { user: 'carl', project: 'other' });

describe('quotas', () => {
  runPlacementCases([
    {
      name: 'a user at their limit waits; others go on',
      input: world({
        quotas: { gpusPerUser: 4 },
        running: [running('r1', gpuIds(0, 3), { gpus: 4 })],
        queue: [queued(1, { gpus: 1 }), queued(2, { gpus: 1 }, { user: 'bob' })],
      }),
      starts: { 2: ['GPU-4'] },
      waits: { 1: 'user quota: 4 of 4 GPUs' },
      codes: { 1: 'quota' },
    },
    {
      name: 'a request over the limit on its own says so',
      input: world({ quotas: { gpusPerUser: 4 }, queue: [queued(1, { gpus: 6 })] }),
      waits: { 1: 'user quota: asks for 6 GPUs, the limit is 4 GPUs' },
    },
    {
      name: "a user's own limit replaces the default",
      input: world({
        quotas: { gpusPerUser: 4, users: new Map([['bob', 8]]) },
        running: [running('r1', gpuIds(0, 3), { gpus: 4 }, { user: 'bob' })],
        queue: [queued(1, { gpus: 2 }, { user: 'bob' })],
      }),
      starts: { 1: ['GPU-4', 'GPU-5'] },
    },
    {
      name: 'a project quota counts every member',
      input: world({
        quotas: { gpusPerProject: 2 },
        running: [running('r1', ['GPU-0'], { gpus: 1 })],
        queue: [queued(1, { gpus: 2 }, { user: 'bob' }), queued(2, { gpus: 2 }, { user: 'bob', project: 'nlp' })],
      }),
      starts: { 2: ['GPU-1', 'GPU-2'] },
      waits: { 1: 'project quota: 1 of 2 GPUs' },
    },
    {
      name: "a GPU-memory job counts as its share of its GPU's memory",
      input: world({
        quotas: { gpusPerUser: 1 },
        running: [running('m1', ['GPU-0'], { gb: 40 })],
        queue: [queued(1, { gb: 40 }), queued(2, { gb: 20 })],
      }),
      starts: { 1: ['GPU-0'] },
      waits: { 2: 'user quota: 1 of 1 GPU' },
    },
    {
      name: 'jobs started by the same decision count',
      input: world({ quotas: { gpusPerUser: 2 }, queue: [queued(1, { gpus: 1 }), queued(2, { gpus: 1 }), queued(3, { gpus: 1 })] }),
      starts: { 1: ['GPU-0'], 2: ['GPU-1'] },
      waits: { 3: 'user quota: 2 of 2 GPUs' },
    },
    {
      name: 'CPU-only jobs are outside the GPU quota',
      input: world({ quotas: { gpusPerUser: 0 }, queue: [queued(1, { cpus: 2 })] }),
      starts: { 1: [] },
    },
    {
      name: 'a job on a GPU that vanished still counts against its quota',
      input: world({ quotas: { gpusPerUser: 1 }, running: [running('r1', ['GPU-gone'], { gpus: 1 })], queue: [queued(1, { gpus: 1 })] }),
      waits: { 1: 'user quota: 1 of 1 GPU' },
    },
  ]);
});

describe('priorities', () => {
  runPlacementCases([
    {
      name: 'a higher-priority job goes first, however late it came',
      input: world({
        running: [carl(0, 5)],
        queue: [queued('low', { gpus: 2 }, { submittedAt: NOW - HOUR / 2 }), queued('high', { gpus: 2 }, { priority: 5 })],
      }),
      starts: { high: ['GPU-6', 'GPU-7'] },
      waits: { low: 'waiting for 2 GPUs: 0 free' },
    },
    {
      name: 'a lower-priority job does not take GPUs a higher-priority job waits for',
      input: world({
        running: [carl(0, 5)],
        queue: [queued('high', { gpus: 4 }, { priority: 5 }), queued('low', { gpus: 1 })],
      }),
      starts: {},
      waits: { high: 'waiting for 4 GPUs: 2 free', low: 'behind higher-priority job high' },
      codes: { high: 'resources', low: 'behind' },
      check: (plan) => expect(plan.waiting[0]!.reserved).toEqual({ gpuUuids: ['GPU-6', 'GPU-7', 'GPU-0', 'GPU-1'] }),
    },
  ]);
});

describe('fair share', () => {
  runPlacementCases([
    {
      name: 'the user holding fewer GPUs goes first, whoever submitted first',
      input: world({
        running: [running('a0', gpuIds(0, 2), { gpus: 3 }), running('b0', ['GPU-3'], { gpus: 1 }, { user: 'bob' }), carl(4, 6)],
        queue: [queued('ada', { gpus: 1 }), queued('bob', { gpus: 1 }, { user: 'bob' })],
      }),
      starts: { bob: ['GPU-7'] },
      waits: { ada: 'waiting for 1 GPU: 0 free' },
    },
    {
      name: 'recent GPU-seconds break a tie in GPUs held',
      input: world({
        running: [carl(0, 6)],
        recentGpuSeconds: new Map([['ada', 36_000], ['bob', 600]]),
        queue: [queued('ada', { gpus: 1 }), queued('bob', { gpus: 1 }, { user: 'bob' })],
      }),
      starts: { bob: ['GPU-7'] },
    },
    {
      name: 'with equal shares, the oldest job goes first',
      input: world({ running: [carl(0, 6)], queue: [queued('bob', { gpus: 1 }, { user: 'bob' }), queued('ada', { gpus: 1 }, { submittedAt: NOW - HOUR / 2 })] }),
      starts: { ada: ['GPU-7'] },
    },
    {
      name: 'a job that has waited its longest goes ahead of fair share',
      input: world({
        running: [running('a0', gpuIds(0, 2), { gpus: 3 }), carl(3, 6)],
        queue: [queued('ada', { gpus: 1 }, { submittedAt: NOW - 2 * HOUR }), queued('bob', { gpus: 1 }, { user: 'bob' })],
      }),
      starts: { ada: ['GPU-7'] },
    },
  ]);

  it('shares GPUs between two users submitting alternately, where FIFO would serve the first burst', () => {
    // 2 GPUs; every job runs an hour. Ada submits five jobs at once, then Bob one every 10 minutes. Nobody waits
    // long enough here for age to take over from fair share.
    const jobs: QueuedJob[] = [
      ...[1, 2, 3, 4, 5].map((n) => queued(`ada${n}`, { gpus: 1 }, { submittedAt: NOW + n })),
      ...[1, 2, 3, 4, 5].map((n) => queued(`bob${n}`, { gpus: 1 }, { user: 'bob', submittedAt: NOW + n * 10 * MINUTE })),
    ];
    const started: RunningJob[] = [];
    for (let now = NOW; started.length < jobs.length; now += 5 * MINUTE) {
      const recentGpuSeconds = new Map<string, number>();
      for (const job of started) {
        const seconds = (Math.min(now, job.startedAt + HOUR) - job.startedAt) / 1000;
        recentGpuSeconds.set(job.user, (recentGpuSeconds.get(job.user) ?? 0) + seconds);
      }
      const plan = planPlacement(
        world({
          now,
          gpus: h100s(2),
          recentGpuSeconds,
          policy: { maxOvertakeMs: 6 * HOUR },
          running: started.filter((job) => job.startedAt + HOUR > now),
          queue: jobs.filter((job) => job.submittedAt <= now && !started.some((done) => done.id === job.id)),
        }),
      );
      for (const start of plan.start) {
        const job = jobs.find((candidate) => candidate.id === start.jobId)!;
        started.push({ ...job, gpuUuids: start.gpuUuids, startedAt: now, preemptible: false });
      }
    }
    expect(started.map((job) => job.id)).toEqual(['ada1', 'ada2', 'bob1', 'ada3', 'bob2', 'ada4', 'bob3', 'ada5', 'bob4', 'bob5']);
  });
});
