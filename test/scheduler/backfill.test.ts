import { describe, expect } from 'vitest';
import type { Plan } from '../../src/scheduler/placement-types.ts';
import { runPlacementCases } from './placement-cases.ts';
import { GIB, HOUR, MINUTE, NOW, queued, running, world } from './placement-world.ts';

const head = (plan: Plan) => plan.waiting.find((entry) => entry.reserved);

/** GPU-0 frees in an hour, GPU-1..6 in five; GPU-7 is free. */
const endingSoonAndLate = [
  running('r0', ['GPU-0'], { gpus: 1 }, { startedAt: NOW - HOUR, timeLimitMs: 2 * HOUR }),
  running('r1', ['GPU-1', 'GPU-2', 'GPU-3', 'GPU-4', 'GPU-5', 'GPU-6'], { gpus: 6 }, { startedAt: NOW - HOUR, timeLimitMs: 6 * HOUR }),
];

/** GPU-0..6 busy with jobs that have no time limit; GPU-7 free. */
const endingNever = [running('r', ['GPU-0', 'GPU-1', 'GPU-2', 'GPU-3', 'GPU-4', 'GPU-5', 'GPU-6'], { gpus: 7 })];

describe('backfill never delays the job first in line', () => {
  runPlacementCases([
    {
      name: 'the head holds the GPUs that free earliest; a job sure to end before then may use them meanwhile',
      input: world({
        running: endingSoonAndLate,
        queue: [
          queued('head', { gpus: 2 }),
          queued('long', { gpus: 1 }, { timeLimitMs: 2 * HOUR }),
          queued('unbounded', { gpus: 1 }),
          queued('short', { gpus: 1 }, { timeLimitMs: 30 * MINUTE }),
        ],
      }),
      starts: { short: ['GPU-7'] },
      waits: { head: 'waiting for 2 GPUs: 1 free', long: 'behind job head, first in line', unbounded: 'behind job head, first in line' },
      check: (plan) => expect(head(plan)).toMatchObject({ jobId: 'head', reserved: { gpuUuids: ['GPU-7', 'GPU-0'], expectedAt: NOW + HOUR } }),
    },
    {
      name: 'a job of any length may use what the head will not need: a shared GPU outside its reservation',
      input: world({
        running: [
          ...endingSoonAndLate.slice(0, 1),
          running('m1', ['GPU-1'], { gb: 40 }),
          running('r2', ['GPU-2', 'GPU-3', 'GPU-4', 'GPU-5', 'GPU-6'], { gpus: 5 }, { startedAt: NOW - HOUR, timeLimitMs: 6 * HOUR }),
        ],
        queue: [queued('head', { gpus: 2 }), queued('packed', { gb: 20 })],
      }),
      starts: { packed: ['GPU-1'] },
    },
    {
      name: "…and the CPUs the head will not need, until they run out",
      input: world({
        host: { cpus: 16, memory: 256 * GIB },
        running: [
          running('r', ['GPU-0', 'GPU-1', 'GPU-2', 'GPU-3', 'GPU-4', 'GPU-5'], { gpus: 6, cpus: 4 }, { startedAt: NOW - HOUR, timeLimitMs: 2 * HOUR }),
        ],
        queue: [queued('head', { gpus: 4, cpus: 8 }), queued('cpu1', { cpus: 6 }), queued('cpu2', { cpus: 4 })],
      }),
      starts: { cpu1: [] },
      waits: { cpu2: 'behind job head, first in line' },
    },
    {
      name: 'a higher-priority head is named as such',
      input: world({ running: endingSoonAndLate, queue: [queued('head', { gpus: 2 }, { priority: 3 }), queued('low', { gpus: 1 })] }),
      waits: { low: 'behind higher-priority job head' },
    },
  ]);
});

describe('starvation bound when running jobs have no time limit', () => {
  runPlacementCases([
    {
      name: 'a job may overtake the head only if it ends before the head has waited its longest (1 hour)',
      input: world({
        running: endingNever,
        queue: [
          queued('head', { gpus: 2 }, { submittedAt: NOW - 10 * MINUTE }),
          queued('ends-at-55m', { gpus: 1 }, { timeLimitMs: 55 * MINUTE }),
          queued('ends-at-40m', { gpus: 1 }, { timeLimitMs: 40 * MINUTE }),
        ],
      }),
      starts: { 'ends-at-40m': ['GPU-7'] },
      waits: { 'ends-at-55m': 'behind job head, first in line' },
      check: (plan) => expect(head(plan)?.reserved).toEqual({ gpuUuids: ['GPU-7', 'GPU-0'] }),
    },
    {
      name: 'once the head has waited its longest, nothing overtakes it onto its GPUs',
      input: world({
        running: endingNever,
        queue: [queued('head', { gpus: 2 }, { submittedAt: NOW - 61 * MINUTE }), queued('one-minute', { gpus: 1 }, { timeLimitMs: MINUTE })],
      }),
      starts: {},
      waits: { 'one-minute': 'behind job head, first in line' },
    },
    {
      name: 'the bound is a policy setting',
      input: world({
        policy: { maxOvertakeMs: 15 * MINUTE },
        running: endingNever,
        queue: [queued('head', { gpus: 2 }, { submittedAt: NOW - 10 * MINUTE }), queued('ends-at-10m', { gpus: 1 }, { timeLimitMs: 10 * MINUTE })],
      }),
      starts: {},
    },
  ]);
});
