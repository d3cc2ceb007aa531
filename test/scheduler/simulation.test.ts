import { describe, expect, it } from 'vitest';
import { planPlacement } from '../../src/scheduler/plan-placement.ts';
import { planFifo } from './fifo-placement.ts';
import { GIB, HOUR, MINUTE, NOW, h100s, seededRandom } from './placement-world.ts';
import { planBreaks } from './plan-invariants.ts';
import { simulate, type Decide, type SimulationResult } from './simulate.ts';
import { syntheticJobs } from './synthetic-jobs.ts';

/**
 * A few hundred synthetic jobs (1, 2, 4 and 8 GPUs, shared-GPU memory, CPU only; 5 minutes to 8 hours; four users)
 * arriving about every 20 minutes on 8 GPUs — a contended machine — replayed through the policy and through plain
 * FIFO, each seed with the very same jobs. Greedy first-fit is shown too: good for small jobs, it starves large ones.
 */

const JOBS = 300;
const SEEDS = [1, 2, 3];
const host = { cpus: 128, memory: 1024 * GIB };

function line(name: string, result: SimulationResult): string {
  const hours = (ms: number) => `${(ms / HOUR).toFixed(2)} h`.padStart(8);
  return [
    name.padEnd(18),
    `utilisation ${(result.utilisation * 100).toFixed(1)}%`,
    `longest wait ${hours(result.maxWaitMs)}`,
    `mean wait ${hours(result.meanWaitMs)}`,
    `mean wait of small jobs ${hours(result.meanWaitSmallMs)}`,
    `longest wait of 4+ GPU jobs ${hours(result.maxWaitLargeMs)}`,
  ].join('   ');
}

/** The policy, with every plan it makes checked against the invariants on the way. */
const checkedPolicy: Decide = (input) => {
  const plan = planPlacement(input);
  const breaks = planBreaks(input, plan);
  if (breaks.length > 0) throw new Error(`at ${input.now}: ${breaks.join('; ')}`);
  return plan;
};

describe(`simulation: ${JOBS} synthetic jobs on 8 GPUs, against plain FIFO`, () => {
  for (const seed of SEEDS) {
    it(`seed ${seed}: no worse utilisation, shorter waits for small jobs, a bounded longest wait`, () => {
      const jobs = syntheticJobs(seededRandom(seed), JOBS, NOW, 20 * MINUTE);
      const ours = simulate(jobs, h100s(8), host, checkedPolicy);
      const fifo = simulate(jobs, h100s(8), host, (input) => planFifo(input, { blocking: true }));
      const greedy = simulate(jobs, h100s(8), host, (input) => planFifo(input, { blocking: false }));
      console.log(
        [`seed ${seed}:`, line('  trainyard', ours), line('  plain FIFO', fifo), line('  greedy first-fit', greedy)].join('\n'),
      );

      expect(ours.outcomes).toHaveLength(JOBS);
      expect(ours.utilisation).toBeGreaterThanOrEqual(fifo.utilisation);
      expect(ours.meanWaitSmallMs).toBeLessThan(fifo.meanWaitSmallMs / 2);
      // Backfill and fair share never let the longest wait run away: no longer than FIFO's, where nothing
      // overtakes, and well short of greedy first-fit's, where large jobs starve.
      expect(ours.maxWaitMs).toBeLessThanOrEqual(fifo.maxWaitMs * 1.1);
      expect(ours.maxWaitLargeMs).toBeLessThan(greedy.maxWaitLargeMs);
    });
  }
});
