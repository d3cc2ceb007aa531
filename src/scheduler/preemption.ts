import { availableBytes, type HeldJob, type Pool, type UnitState } from './gpu-pool.ts';
import type { JobId, QueuedJob, Resources } from './placement-types.ts';
import { comesBefore } from './sort-keys.ts';
import { chooseSharedUnit, chooseWholeUnits, type GpuPlacement } from './unit-choice.ts';

export interface Preemption {
  /** Running jobs to stop now. */
  victims: HeldJob[];
  /** Jobs already stopping whose resources the job waits for. */
  awaited: HeldJob[];
  /** Where the job will run once they are gone. */
  placement: GpuPlacement;
}

/**
 * Jobs whose leaving may make room: those already stopping (free of cost), and running jobs that are preemptible
 * and of lower priority. Preferred first: stopping, then lowest priority, then most recently started.
 */
function candidatesFor(pool: Pool, job: QueuedJob): HeldJob[] {
  const stopping = (held: HeldJob) => (held.running?.stopping ? 0 : 1);
  return pool.jobs
    .filter(
      (held) =>
        held.running !== undefined &&
        !held.reclaimed &&
        (held.running.stopping || (held.running.preemptible && held.priority < job.priority)),
    )
    .sort((a, b) => stopping(a) - stopping(b) || a.priority - b.priority || b.running!.startedAt - a.running!.startedAt);
}

/** The cost of stopping a set: how many, the highest priority among them, the work they lose (ms run so far). */
function cost(pool: Pool, jobs: Iterable<HeldJob>): number[] {
  let count = 0;
  let priority = -Infinity;
  let lostWork = 0;
  for (const held of jobs) {
    if (held.running?.stopping) continue;
    count++;
    priority = Math.max(priority, held.priority);
    lostWork += pool.now - held.running!.startedAt;
  }
  return [count, priority, lostWork];
}

const freeableWith = (unit: UnitState, ids: ReadonlySet<JobId>) => unit.holders.every((holder) => ids.has(holder.jobId));

function fitsWithout(pool: Pool, resources: Resources, gone: ReadonlySet<HeldJob>): boolean {
  const ids = new Set([...gone].map((held) => held.id));
  let cpus = pool.freeCpus;
  let memory = pool.freeMemory;
  for (const held of gone) {
    cpus += held.cpus;
    memory += held.memory;
  }
  if (resources.cpus > cpus || resources.memory > memory) return false;
  if (resources.gpuMemory !== undefined) {
    const bytes = resources.gpuMemory;
    return pool.units.some((unit) => availableBytes(unit, (holder) => ids.has(holder.jobId)) >= bytes);
  }
  return pool.units.filter((unit) => freeableWith(unit, ids)).length >= (resources.gpus ?? 0);
}

/** Whole GPUs: one unit at a time, the one that adds the cheapest new victims (a free unit adds none). */
function pickForWholeGpus(pool: Pool, count: number, candidates: readonly HeldJob[], chosen: Set<HeldJob>): void {
  const byId = new Map(candidates.map((held) => [held.id, held]));
  const taken = new Set<UnitState>();
  for (let picked = 0; picked < count; picked++) {
    let best: { unit: UnitState; adds: HeldJob[]; key: number[] } | undefined;
    for (const unit of pool.units) {
      if (taken.has(unit)) continue;
      const holders = unit.holders.map((holder) => byId.get(holder.jobId));
      if (holders.some((held) => held === undefined)) continue;
      const adds = [...new Set(holders as HeldJob[])].filter((held) => !chosen.has(held));
      const key = [...cost(pool, adds), unit.position];
      if (!best || comesBefore(key, best.key)) best = { unit, adds, key };
    }
    if (!best) return;
    taken.add(best.unit);
    for (const held of best.adds) chosen.add(held);
  }
}

/** GPU memory: on each unit, victims in order of preference until enough is free; the cheapest unit wins. */
function pickForMemory(pool: Pool, bytes: number, candidates: readonly HeldJob[], chosen: Set<HeldJob>): void {
  let best: { adds: HeldJob[]; key: number[] } | undefined;
  for (const unit of pool.units) {
    const onUnit = new Set(unit.holders.map((holder) => holder.jobId));
    const adds: HeldJob[] = [];
    const ids = new Set<JobId>();
    for (const held of candidates) {
      if (availableBytes(unit, (holder) => ids.has(holder.jobId)) >= bytes) break;
      if (!onUnit.has(held.id)) continue;
      adds.push(held);
      ids.add(held.id);
    }
    if (availableBytes(unit, (holder) => ids.has(holder.jobId)) < bytes) continue;
    const key = cost(pool, adds);
    if (!best || comesBefore(key, best.key)) best = { adds, key };
  }
  for (const held of best?.adds ?? []) chosen.add(held);
}

function placementWithout(pool: Pool, resources: Resources, gone: ReadonlySet<HeldJob>): GpuPlacement {
  const ids = new Set([...gone].map((held) => held.id));
  const leaves = (holder: { jobId: JobId }) => ids.has(holder.jobId);
  if (resources.gpuMemory !== undefined) {
    return { units: [chooseSharedUnit(pool.units, resources.gpuMemory, undefined, leaves)!], bytes: resources.gpuMemory };
  }
  const freeable = pool.units.filter((unit) => freeableWith(unit, ids));
  return { units: chooseWholeUnits(pool.units, freeable, resources.gpus ?? 0)! };
}

/**
 * Which running jobs to stop so that `job` can start: none unless stopping them is enough. The set is built
 * greedily (GPUs first, then host CPUs and memory), then every victim it can do without is dropped, dearest first;
 * so it is the fewest, lowest-priority, most recently started jobs in practice, if not always in theory.
 */
export function planPreemption(pool: Pool, job: QueuedJob): Preemption | undefined {
  const candidates = candidatesFor(pool, job);
  if (candidates.length === 0) return undefined;
  const { resources } = job;
  const chosen = new Set<HeldJob>();
  if (resources.gpuMemory !== undefined) pickForMemory(pool, resources.gpuMemory, candidates, chosen);
  else if (resources.gpus) pickForWholeGpus(pool, resources.gpus, candidates, chosen);
  for (const held of candidates) {
    if (fitsWithout(pool, resources, chosen)) break;
    chosen.add(held);
  }
  if (!fitsWithout(pool, resources, chosen)) return undefined;
  for (const held of [...candidates].reverse()) {
    if (!chosen.has(held)) continue;
    chosen.delete(held);
    if (!fitsWithout(pool, resources, chosen)) chosen.add(held);
  }
  const placement = placementWithout(pool, resources, chosen);
  const all = candidates.filter((held) => chosen.has(held));
  return { victims: all.filter((held) => !held.running?.stopping), awaited: all.filter((held) => held.running?.stopping), placement };
}
