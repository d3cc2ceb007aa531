import { availableBytes, createPool, hold, isWholeFree, shareOf, type Pool } from '../../src/scheduler/gpu-pool.ts';
import type { Plan, PlacementInput, Resources } from '../../src/scheduler/placement-types.ts';
import { hostFits, type GpuPlacement } from '../../src/scheduler/unit-choice.ts';

/**
 * The baseline the policy is measured against: plain FIFO by submission time with first-fit GPUs (the lowest free
 * indexes; the first GPU with enough memory), no priorities, quotas, fair share, reservations or preemption.
 * `blocking`: the first job that does not fit stops the queue (strict FIFO); otherwise every later job that fits
 * starts (greedy first-fit, which can starve large jobs).
 */
export function planFifo(input: PlacementInput, { blocking }: { blocking: boolean }): Plan {
  const pool = createPool(input);
  const plan: Plan = { start: [], preempt: [], waiting: [] };
  let blocked = false;
  for (const job of [...input.queue].sort((a, b) => a.submittedAt - b.submittedAt)) {
    const gpus = blocked ? undefined : firstFit(pool, job.resources);
    if (!gpus || !hostFits(pool, job.resources)) {
      blocked ||= blocking;
      plan.waiting.push({ jobId: job.id, code: 'resources', reason: 'waiting in line' });
      continue;
    }
    const { id, user, project, priority } = job;
    const endsAt = job.timeLimitMs === undefined ? Infinity : input.now + job.timeLimitMs;
    const share = shareOf(job.resources, gpus.units[0]?.gpu.memoryTotal ?? 0);
    hold(pool, { job: { id, user, project, priority, cpus: job.resources.cpus, memory: job.resources.memory, endsAt }, units: gpus.units, bytes: gpus.bytes, share });
    plan.start.push({ jobId: job.id, gpuUuids: gpus.units.map((unit) => unit.gpu.uuid), ...(gpus.bytes !== undefined && { gpuMemory: gpus.bytes }) });
  }
  return plan;
}

function firstFit(pool: Pool, resources: Resources): GpuPlacement | undefined {
  const { gpuMemory } = resources;
  if (gpuMemory !== undefined) {
    const unit = pool.units.find((candidate) => availableBytes(candidate) >= gpuMemory);
    return unit && { units: [unit], bytes: gpuMemory };
  }
  const units = pool.units.filter(isWholeFree).slice(0, resources.gpus ?? 0);
  return units.length === (resources.gpus ?? 0) ? { units } : undefined;
}
