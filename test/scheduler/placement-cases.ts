import { expect, it } from 'vitest';
import { planPlacement } from '../../src/scheduler/plan-placement.ts';
import type { JobId, Plan, PlacementInput, WaitCode } from '../../src/scheduler/placement-types.ts';

/** One row of a placement table: the input, and what the plan must say about the jobs it names. */
export interface PlacementCase {
  name: string;
  input: PlacementInput;
  /** Exactly the jobs that start, with their GPUs in order. */
  starts?: Record<string, string[]>;
  /** Reasons of waiting jobs (exact text), or their codes. */
  waits?: Record<string, string>;
  codes?: Record<string, WaitCode>;
  /** Exactly the jobs preempted (none when left out). */
  preempts?: JobId[];
  /** Further checks on the plan. */
  check?: (plan: Plan) => void;
}

const byId = <T extends { jobId: JobId }>(entries: readonly T[]) => new Map(entries.map((entry) => [String(entry.jobId), entry]));

export function runPlacementCases(cases: readonly PlacementCase[]): void {
  for (const row of cases) {
    it(row.name, () => {
      const plan = planPlacement(row.input);
      const started = byId(plan.start);
      const waiting = byId(plan.waiting);
      if (row.starts) {
        expect(Object.fromEntries([...started].map(([id, start]) => [id, start.gpuUuids]))).toEqual(row.starts);
      }
      for (const [id, reason] of Object.entries(row.waits ?? {})) expect(waiting.get(id)?.reason, `job ${id}`).toBe(reason);
      for (const [id, code] of Object.entries(row.codes ?? {})) expect(waiting.get(id)?.code, `job ${id}`).toBe(code);
      expect(plan.preempt.map((decision) => String(decision.jobId)).sort()).toEqual((row.preempts ?? []).map(String).sort());
      expect(plan.start.length + plan.waiting.length).toBe(row.input.queue.length);
      row.check?.(plan);
    });
  }
}
