import type { QueuedJob } from '../../src/scheduler/placement-types.ts';
import { GIB, HOUR, MINUTE } from './placement-world.ts';

/** A job of a synthetic workload: what it asks for, and how long it really runs (within its time limit, if any). */
export interface SyntheticJob extends QueuedJob {
  durationMs: number;
}

const USERS = ['ada', 'bob', 'carl', 'dana'];

/** log-uniform between `low` and `high`: many short jobs, a few long ones. */
const logUniform = (random: () => number, low: number, high: number) => low * Math.exp(random() * Math.log(high / low));

/** The size mix: mostly single GPUs and shared-GPU jobs, some 2- and 4-GPU jobs, a few using all 8, some CPU only. */
function shape(random: () => number): { gpus?: number; gb?: number; long: boolean } {
  const roll = random();
  if (roll < 0.35) return { gpus: 1, long: false };
  if (roll < 0.5) return { gpus: 2, long: false };
  if (roll < 0.58) return { gpus: 4, long: true };
  if (roll < 0.62) return { gpus: 8, long: true };
  if (roll < 0.87) return { gb: 10 + Math.floor(random() * 31), long: false };
  return { long: false };
}

/**
 * `count` jobs from four users, arriving `meanGapMs` apart on average (exponential gaps) from `start`: short jobs run
 * 5 minutes to 2 hours, large ones 1 to 8 hours; 85% carry a time limit 1-2x their real duration.
 */
export function syntheticJobs(random: () => number, count: number, start: number, meanGapMs: number): SyntheticJob[] {
  let submittedAt = start;
  return Array.from({ length: count }, (_, id) => {
    submittedAt += Math.round(-Math.log(1 - random()) * meanGapMs);
    const { gpus, gb, long } = shape(random);
    const durationMs = Math.round(long ? logUniform(random, HOUR, 8 * HOUR) : logUniform(random, 5 * MINUTE, 2 * HOUR));
    const limited = random() < 0.85;
    const perGpu = gpus ?? 1;
    return {
      id,
      user: USERS[Math.floor(random() * USERS.length)]!,
      project: 'research',
      priority: 0,
      submittedAt,
      resources: {
        ...(gpus !== undefined && { gpus }),
        ...(gb !== undefined && { gpuMemory: gb * GIB }),
        cpus: 4 * perGpu,
        memory: 16 * GIB * perGpu,
      },
      ...(limited && { timeLimitMs: Math.ceil((durationMs * (1 + random())) / (5 * MINUTE)) * 5 * MINUTE }),
      durationMs,
    };
  });
}
