import { availableBytes, type Holder, type Pool, type UnitState } from './gpu-pool.ts';
import type { JobId, PlacementPolicy, QueuedJob, Resources } from './placement-types.ts';
import type { GpuPlacement, UnitFilter } from './unit-choice.ts';

/**
 * What is held back for the job first in line (the head) when it does not fit: the GPUs that free earliest,
 * the time they should all be free (its shadow time), and what will be left over at that time — which jobs
 * behind it may use for as long as they like. Everything else is theirs only if they end before the shadow time.
 */
export interface HeadReservation {
  jobId: JobId;
  priority: number;
  resources: Resources;
  units: ReadonlySet<UnitState>;
  /** For a `gpuMemory` head: its unit, and the memory on it that the head will not need. */
  memoryUnit?: UnitState;
  extraBytes: number;
  extraCpus: number;
  extraMemory: number;
  /** Infinity when a job it waits for has no time limit. */
  expectedAt: number;
  /** A job behind the head that ends by then may use anything free. */
  backfillUntil: number;
}

/** Whether a hold will be gone at `time`; holds with no known end never are, not even at Infinity. */
const releasedBy = (time: number) => (held: { endsAt: number }) => held.endsAt <= time && held.endsAt < Infinity;

/** Times worth trying, earliest first: now, then each finite end. */
function endTimes(now: number, ends: Iterable<number>): number[] {
  const times = new Set([now]);
  for (const end of ends) if (end > now && end < Infinity) times.add(end);
  return [...times].sort((a, b) => a - b);
}

function hostFreeAt(pool: Pool, time: number): { cpus: number; memory: number } {
  const released = releasedBy(time);
  let cpus = pool.host.cpus;
  let memory = pool.host.memory;
  for (const job of pool.jobs) {
    if (released(job)) continue;
    cpus -= job.cpus;
    memory -= job.memory;
  }
  return { cpus, memory };
}

function hostReadyAt(pool: Pool, resources: Resources): number {
  for (const time of endTimes(pool.now, pool.jobs.map((job) => job.endsAt))) {
    const free = hostFreeAt(pool, time);
    if (free.cpus >= resources.cpus && free.memory >= resources.memory) return time;
  }
  return Infinity;
}

const unitFreeAt = (pool: Pool, unit: UnitState) => Math.max(pool.now, ...unit.holders.map((holder: Holder) => holder.endsAt));

function memoryReadyAt(pool: Pool, unit: UnitState, bytes: number): number {
  for (const time of endTimes(pool.now, unit.holders.map((holder) => holder.endsAt))) {
    if (availableBytes(unit, releasedBy(time)) >= bytes) return time;
  }
  return Infinity;
}

interface GpuReservation {
  units: UnitState[];
  readyAt: number;
  memoryUnit?: UnitState;
}

function reserveGpus(pool: Pool, resources: Resources): GpuReservation {
  const { gpuMemory } = resources;
  if (gpuMemory !== undefined) {
    let best: { unit: UnitState; readyAt: number } | undefined;
    for (const unit of pool.units) {
      const readyAt = memoryReadyAt(pool, unit, gpuMemory);
      if (!best || readyAt < best.readyAt) best = { unit, readyAt };
    }
    return best ? { units: [best.unit], readyAt: best.readyAt, memoryUnit: best.unit } : { units: [], readyAt: Infinity };
  }
  const count = resources.gpus ?? 0;
  const earliest = pool.units
    .map((unit) => ({ unit, freeAt: unitFreeAt(pool, unit) }))
    // Among GPUs with no known end, one with fewer jobs on it is likelier to free first.
    .sort((a, b) => a.freeAt - b.freeAt || a.unit.holders.length - b.unit.holders.length || a.unit.position - b.unit.position)
    .slice(0, count);
  return { units: earliest.map(({ unit }) => unit), readyAt: count === 0 ? pool.now : (earliest[count - 1]?.freeAt ?? Infinity) };
}

export function reserveForHead(pool: Pool, job: QueuedJob, policy: PlacementPolicy): HeadReservation {
  const { resources } = job;
  const gpus = reserveGpus(pool, resources);
  const expectedAt = Math.max(gpus.readyAt, hostReadyAt(pool, resources));
  const hostThen = hostFreeAt(pool, expectedAt);
  const memoryThen = gpus.memoryUnit ? availableBytes(gpus.memoryUnit, releasedBy(expectedAt)) : 0;
  return {
    jobId: job.id,
    priority: job.priority,
    resources,
    units: new Set(gpus.units),
    memoryUnit: gpus.memoryUnit,
    extraBytes: Math.max(0, memoryThen - (resources.gpuMemory ?? 0)),
    extraCpus: Math.max(0, hostThen.cpus - resources.cpus),
    extraMemory: Math.max(0, hostThen.memory - resources.memory),
    expectedAt,
    // With no known end, overtaking is allowed by jobs that end before the head has waited its longest.
    backfillUntil: expectedAt < Infinity ? expectedAt : Math.max(pool.now, job.submittedAt + policy.maxOvertakeMs),
  };
}

/** A job behind the head that is sure to end before the head's GPUs are due may use anything free. */
export const endsInTime = (head: HeadReservation, timeLimitMs: number | undefined, now: number) =>
  timeLimitMs !== undefined && now + timeLimitMs <= head.backfillUntil;

/** Otherwise it keeps off the head's GPUs, but for memory on the head's shared GPU that the head will not need. */
export const outsideReservation =
  (head: HeadReservation): UnitFilter =>
  (unit, bytes) =>
    !head.units.has(unit) || (unit === head.memoryUnit && bytes !== undefined && bytes <= head.extraBytes);

export const fitsLeftover = (pool: Pool, head: HeadReservation, resources: Resources) =>
  resources.cpus <= Math.min(pool.freeCpus, head.extraCpus) && resources.memory <= Math.min(pool.freeMemory, head.extraMemory);

/** Takes a long-running job's share of the leftovers, so the next one behind the head sees what remains. */
export function takeLeftover(head: HeadReservation, resources: Resources, placement: GpuPlacement): void {
  head.extraCpus -= resources.cpus;
  head.extraMemory -= resources.memory;
  if (placement.units[0] === head.memoryUnit) head.extraBytes -= placement.bytes ?? 0;
}
