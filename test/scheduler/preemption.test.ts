import { describe, expect } from 'vitest';
import { runPlacementCases } from './placement-cases.ts';
import { GIB, MINUTE, NOW, h100s, queued, running, world } from './placement-world.ts';

const startedAgo = (minutes: number) => NOW - minutes * MINUTE;

/**
 * All 8 GPUs busy: A, B, C preemptible at priority 0 (started 2 h, 10 min, 30 min ago; C holds two GPUs),
 * D preemptible at priority 1, E not preemptible.
 */
const busy = (stopping: string[] = [], freeLast = false) => [
  running('A', ['GPU-0'], { gpus: 1 }, { preemptible: true, startedAt: startedAgo(120) }),
  running('B', ['GPU-1'], { gpus: 1 }, { preemptible: true, startedAt: startedAgo(10), stopping: stopping.includes('B') }),
  running('C', ['GPU-2', 'GPU-3'], { gpus: 2 }, { preemptible: true, startedAt: startedAgo(30) }),
  running('D', ['GPU-4'], { gpus: 1 }, { preemptible: true, priority: 1, startedAt: startedAgo(1) }),
  running('E', freeLast ? ['GPU-5', 'GPU-6'] : ['GPU-5', 'GPU-6', 'GPU-7'], { gpus: freeLast ? 2 : 3 }, { startedAt: startedAgo(1) }),
];

const urgent = (gpus: number, priority = 5) => queued('H', { gpus }, { priority });

describe('preemption', () => {
  runPlacementCases([
    {
      name: 'the fewest victims first: one 2-GPU job rather than two 1-GPU jobs',
      input: world({ running: busy(), queue: [urgent(2)] }),
      starts: {},
      preempts: ['C'],
      waits: { H: 'preempting lower-priority job C' },
      codes: { H: 'preempting' },
      check: (plan) => expect(plan.preempt).toEqual([{ jobId: 'C', forJobId: 'H', reason: 'preempted for higher-priority job H' }]),
    },
    {
      name: 'then the lowest priority, then the most recently started',
      input: world({ running: busy(), queue: [urgent(1)] }),
      preempts: ['B'],
    },
    {
      name: 'only jobs of lower priority than the waiting job',
      input: world({ running: busy(), queue: [urgent(1, 1)] }),
      preempts: ['B'],
    },
    {
      name: 'as many as it takes, and no more',
      input: world({ running: busy(), queue: [urgent(3)] }),
      preempts: ['B', 'C'],
      waits: { H: 'preempting lower-priority jobs B and C' },
    },
    {
      name: 'nobody when stopping every candidate would still not be enough',
      input: world({ running: busy(), queue: [urgent(6)] }),
      preempts: [],
      waits: { H: 'waiting for 6 GPUs: 0 free' },
      codes: { H: 'resources' },
    },
    {
      name: 'nobody for a job of the same priority',
      input: world({ running: busy(), queue: [urgent(1, 0)] }),
      preempts: [],
    },
    {
      name: 'a job already stopping is waited for, not preempted again',
      input: world({ running: busy(['B']), queue: [urgent(1)] }),
      preempts: [],
      waits: { H: 'waiting for job B to stop' },
    },
    {
      name: 'a free GPU is used before anyone is stopped, and is not given to a later job meanwhile',
      input: world({ running: busy([], true), queue: [urgent(2), queued('later', { gpus: 1 })] }),
      preempts: ['B'],
      starts: {},
      waits: { later: 'waiting for 1 GPU: 0 free' },
    },
    {
      name: 'for GPU memory: the cheapest jobs on one GPU that leave enough',
      input: world({
        gpus: h100s(1),
        running: [
          running('m-old', ['GPU-0'], { gb: 40 }, { preemptible: true, startedAt: startedAgo(120) }),
          running('m-new', ['GPU-0'], { gb: 30 }, { preemptible: true, startedAt: startedAgo(5) }),
        ],
        queue: [queued('H', { gb: 30 }, { priority: 5 })],
      }),
      preempts: ['m-new'],
    },
    {
      name: 'for host CPUs',
      input: world({
        host: { cpus: 16, memory: 64 * GIB },
        running: [
          running('cpu-old', [], { cpus: 6 }, { preemptible: true, startedAt: startedAgo(120) }),
          running('cpu-new', [], { cpus: 6 }, { preemptible: true, startedAt: startedAgo(5) }),
        ],
        queue: [queued('H', { cpus: 8 }, { priority: 5 })],
      }),
      preempts: ['cpu-new'],
    },
    {
      name: 'never for a job held back by its quota',
      input: world({ quotas: { gpusPerUser: 0 }, running: busy(), queue: [urgent(1)] }),
      preempts: [],
      codes: { H: 'quota' },
    },
  ]);
});
