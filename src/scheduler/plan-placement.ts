import { checkFeasible } from './feasibility.ts';
import { createPool, hold, reclaim, shareOf, type Pool } from './gpu-pool.ts';
import {
  endsInTime,
  fitsLeftover,
  outsideReservation,
  reserveForHead,
  takeLeftover,
  type HeadReservation,
} from './head-reservation.ts';
import {
  DEFAULT_POLICY,
  type Plan,
  type PlacementInput,
  type PlacementPolicy,
  type QueuedJob,
  type WaitCode,
  type WaitingJob,
} from './placement-types.ts';
import { planPreemption, type Preemption } from './preemption.ts';
import { orderQueue } from './queue-order.ts';
import { quotaReason } from './quotas.ts';
import { findGpus, hostFits, type GpuPlacement } from './unit-choice.ts';
import { behindReason, preemptingReason, shortageReason } from './wait-reasons.ts';

interface Decision {
  pool: Pool;
  policy: PlacementPolicy;
  plan: Plan;
  /** The first job that could not start (nor preempt its way in): the one the rest must not delay. */
  head?: HeadReservation;
}

/**
 * Where `job` would start right now, if anywhere: on free resources, but off those held back for the head
 * unless it ends before the head is due (`leftover`: it then runs on what the head will not need).
 */
function placementNow({ pool, head }: Decision, job: QueuedJob, anywhere: GpuPlacement | undefined) {
  if (!anywhere || !hostFits(pool, job.resources)) return undefined;
  if (!head || endsInTime(head, job.timeLimitMs, pool.now)) return { gpus: anywhere, leftover: false };
  const beside = findGpus(pool, job.resources, outsideReservation(head));
  return beside && fitsLeftover(pool, head, job.resources) ? { gpus: beside, leftover: true } : undefined;
}

function heldJob(job: QueuedJob, endsAt: number) {
  const { id, user, project, priority } = job;
  return { id, user, project, priority, cpus: job.resources.cpus, memory: job.resources.memory, endsAt };
}

function start({ pool, plan }: Decision, job: QueuedJob, placement: GpuPlacement, share: number): void {
  const endsAt = job.timeLimitMs === undefined ? Infinity : pool.now + job.timeLimitMs;
  hold(pool, { job: heldJob(job, endsAt), units: placement.units, bytes: placement.bytes, share });
  plan.start.push({
    jobId: job.id,
    gpuUuids: placement.units.map((unit) => unit.gpu.uuid),
    ...(placement.bytes !== undefined && { gpuMemory: placement.bytes }),
  });
}

/** The job's resources are promised to it while the jobs it waits for stop: nobody else takes them meanwhile. */
function claim({ pool, plan }: Decision, job: QueuedJob, preemption: Preemption, share: number): void {
  const { placement, victims, awaited } = preemption;
  for (const held of [...victims, ...awaited]) reclaim(pool, held);
  hold(pool, { job: heldJob(job, Infinity), units: placement.units, bytes: placement.bytes, share });
  for (const victim of victims) {
    plan.preempt.push({ jobId: victim.id, forJobId: job.id, reason: `preempted for higher-priority job ${job.id}` });
  }
}

function wait({ plan }: Decision, job: QueuedJob, code: WaitCode, reason: string, reserved?: WaitingJob['reserved']): void {
  plan.waiting.push({ jobId: job.id, code, reason, ...(reserved && { reserved }) });
}

function decide(decision: Decision, job: QueuedJob, input: PlacementInput): void {
  const { pool, head } = decision;
  const feasible = checkFeasible(job.resources, input);
  if (!feasible.ok) return wait(decision, job, 'impossible', `impossible: ${feasible.reason}`);
  const anywhere = findGpus(pool, job.resources);
  const placement = placementNow(decision, job, anywhere);
  const share = shareOf(job.resources, (placement?.gpus ?? anywhere)?.units[0]?.gpu.memoryTotal ?? pool.largestMemory);
  const overQuota = quotaReason(pool, input.quotas, job, share);
  if (overQuota) return wait(decision, job, 'quota', overQuota);
  if (placement) {
    if (head && placement.leftover) takeLeftover(head, job.resources, placement.gpus);
    return start(decision, job, placement.gpus, share);
  }
  if (head) {
    const couldStart = anywhere !== undefined && hostFits(pool, job.resources);
    return couldStart ? wait(decision, job, 'behind', behindReason(head, job)) : wait(decision, job, 'resources', shortageReason(pool, job.resources));
  }
  const preemption = planPreemption(pool, job);
  if (preemption) {
    claim(decision, job, preemption, share);
    return wait(decision, job, 'preempting', preemptingReason(preemption.victims, preemption.awaited));
  }
  const reservation = reserveForHead(pool, job, decision.policy);
  decision.head = reservation;
  wait(decision, job, 'resources', shortageReason(pool, job.resources), {
    gpuUuids: [...reservation.units].map((unit) => unit.gpu.uuid),
    ...(reservation.expectedAt < Infinity && { expectedAt: reservation.expectedAt }),
  });
}

/**
 * The scheduler's decision, a pure function of the machine's state and the queue: which waiting jobs start now
 * on which GPUs, which running jobs to preempt, and why each other job waits. The policy is in README's
 * "Scheduling" section; in short: priority, then fair share between users, then age; one reservation for the
 * first job that does not fit, and backfill only where it cannot delay that job.
 */
export function planPlacement(input: PlacementInput): Plan {
  const policy = { ...DEFAULT_POLICY, ...input.policy };
  const decision: Decision = { pool: createPool(input), policy, plan: { start: [], preempt: [], waiting: [] } };
  for (const job of orderQueue(input.queue, decision.pool, input.recentGpuSeconds, policy)) decide(decision, job, input);
  return decision.plan;
}
