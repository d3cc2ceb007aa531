import { performance } from 'node:perf_hooks';
import { planPlacement } from '../src/scheduler/plan-placement.ts';
import type { Plan, PlacementInput } from '../src/scheduler/placement-types.ts';
import { planFifo } from '../test/scheduler/fifo-placement.ts';
import { GIB, HOUR, NOW, h100s, running, seededRandom } from '../test/scheduler/placement-world.ts';
import { syntheticJobs } from '../test/scheduler/synthetic-jobs.ts';
import { median, type BenchResult } from './report.ts';

/**
 * The placement decision of issue 4: one call of planPlacement with 1,000 queued jobs (the synthetic mix of the
 * simulation test: whole GPUs, shared-GPU memory, CPU only, four users, most with time limits) on 8 simulated
 * H100s that are partly busy, so that the queue is contended, a head job gets a reservation and the rest is
 * considered for backfill. The baseline is plain FIFO first-fit over the same input, measured in the same run.
 * Each sample is the mean of CALLS_PER_SAMPLE calls; the two are measured alternately, after a warm-up.
 */

const QUEUED = 1000;
const CALLS_PER_SAMPLE = 20;
const SAMPLES = 15;
const WARMUP_CALLS = 50;

function contendedInput(): PlacementInput {
  const random = seededRandom(4);
  const queue = syntheticJobs(random, QUEUED, NOW - 12 * HOUR, 40_000).map(({ durationMs: _, ...job }) => ({
    ...job,
    submittedAt: Math.min(job.submittedAt, NOW - 1000),
  }));
  return {
    now: NOW,
    gpus: h100s(8),
    host: { cpus: 128, memory: 1024 * GIB },
    queue,
    running: [
      running('train-4', ['GPU-0', 'GPU-1', 'GPU-2', 'GPU-3'], { gpus: 4, cpus: 16 }, { timeLimitMs: 4 * HOUR, user: 'bob' }),
      running('train-1', ['GPU-4'], { gpus: 1 }, { user: 'carl', preemptible: true }),
      running('notebook-a', ['GPU-5'], { gb: 20 }, { user: 'dana' }),
      running('notebook-b', ['GPU-5'], { gb: 30 }, { user: 'ada', timeLimitMs: 2 * HOUR }),
    ],
    quotas: { gpusPerUser: 6 },
  };
}

function sample(decide: () => Plan): number {
  const started = performance.now();
  for (let call = 0; call < CALLS_PER_SAMPLE; call++) decide();
  return (performance.now() - started) / CALLS_PER_SAMPLE;
}

export async function benchPlacement(): Promise<BenchResult> {
  const input = contendedInput();
  const ours = () => planPlacement(input);
  const fifo = () => planFifo(input, { blocking: false });
  for (let call = 0; call < WARMUP_CALLS; call++) {
    ours();
    fifo();
  }
  const plan = ours();
  if (plan.start.length + plan.waiting.length !== QUEUED || !plan.waiting.some((entry) => entry.reserved)) {
    throw new Error('the bench input is not contended as intended');
  }
  const oursMs: number[] = [];
  const fifoMs: number[] = [];
  for (let round = 0; round < SAMPLES; round++) {
    oursMs.push(sample(ours));
    fifoMs.push(sample(fifo));
  }
  return {
    name: 'placement',
    figures: [
      {
        label: `placement decision, ${QUEUED} queued on 8 GPUs`,
        value: median(oursMs),
        unit: 'ms',
        baseline: median(fifoMs),
        target: '<= 5 ms',
        samples: oursMs,
      },
      { label: 'baseline: FIFO first-fit, same input', value: median(fifoMs), unit: 'ms', samples: fifoMs },
    ],
  };
}
