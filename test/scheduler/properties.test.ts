import { describe, expect, it } from 'vitest';
import { planPlacement } from '../../src/scheduler/plan-placement.ts';
import { planBreaks } from './plan-invariants.ts';
import { seededRandom } from './placement-world.ts';
import { randomState } from './random-states.ts';

const STATES = 3000;

describe('placement invariants over random states', () => {
  it(`hold in ${STATES} seeded random states`, () => {
    const random = seededRandom(20260105);
    const failures: string[] = [];
    let started = 0;
    let preempted = 0;
    let reserved = 0;
    for (let n = 0; n < STATES && failures.length < 5; n++) {
      const input = randomState(random);
      const plan = planPlacement(input);
      const breaks = planBreaks(input, plan);
      if (breaks.length > 0) failures.push(`state ${n}: ${breaks.join('; ')}`);
      // The same input gives the same plan (checked on every tenth state: cloning is the slow part).
      if (n % 10 === 0) expect(planPlacement(structuredClone(input))).toEqual(plan);
      started += plan.start.length;
      preempted += plan.preempt.length;
      reserved += plan.waiting.filter((entry) => entry.reserved).length;
    }
    expect(failures).toEqual([]);
    // The states exercise every part of the policy, not just the easy cases.
    expect(started).toBeGreaterThan(STATES);
    expect(preempted).toBeGreaterThan(STATES / 20);
    expect(reserved).toBeGreaterThan(STATES / 2);
  });
});
