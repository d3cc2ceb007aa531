import { availableBytes, isWholeFree, type Holder, type Pool, type UnitState } from './gpu-pool.ts';
import type { Resources } from './placement-types.ts';
import { comesBefore } from './sort-keys.ts';

export interface GpuPlacement {
  units: UnitState[];
  /** A `gpuMemory` reservation on `units[0]`. */
  bytes?: number;
}

/** Whether a request may use a unit; `bytes` is set for a `gpuMemory` request. */
export type UnitFilter = (unit: UnitState, bytes: number | undefined) => boolean;

/** Something outside Trainyard holding more than this on a GPU makes it the last choice for a whole-GPU job. */
const FOREIGN_BUSY_BYTES = 1024 ** 3;

const anyUnit: UnitFilter = () => true;
const nobodyLeaves = () => false;

/** How many separate runs of whole-free units the pool would have, by position, with `taken` taken. */
function freeRuns(units: readonly UnitState[], taken: ReadonlySet<UnitState>): number {
  let runs = 0;
  let inRun = false;
  for (const unit of units) {
    const free = isWholeFree(unit) && !taken.has(unit);
    if (free && !inRun) runs++;
    inRun = free;
  }
  return runs;
}

/**
 * `count` of the candidate units (in position order) for one job: the window of neighbours with the smallest
 * index span (locality), then the fewest GPUs busy with foreign work, then the one leaving the fewest separate
 * runs of free GPUs (least fragmentation), then the lowest index (whole GPUs fill from one end, shared from the other).
 */
export function chooseWholeUnits(units: readonly UnitState[], candidates: readonly UnitState[], count: number): UnitState[] | undefined {
  if (candidates.length < count) return undefined;
  if (count === 0) return [];
  let best: { window: UnitState[]; key: number[] } | undefined;
  for (let first = 0; first + count <= candidates.length; first++) {
    const window = candidates.slice(first, first + count);
    const span = window[count - 1]!.gpu.index - window[0]!.gpu.index;
    const busy = window.filter((unit) => unit.foreign > FOREIGN_BUSY_BYTES).length;
    const key = [span, busy, freeRuns(units, new Set(window)), first];
    if (!best || comesBefore(key, best.key)) best = { window, key };
  }
  return best?.window;
}

/**
 * The unit for a `gpuMemory` request: best fit (least memory left over), among GPUs already shared before empty
 * ones, so that whole GPUs stay whole; the highest index on a tie (shared jobs fill from the far end).
 * `gone` asks as if those holders had left (for preemption).
 */
export function chooseSharedUnit(
  units: readonly UnitState[],
  bytes: number,
  allow: UnitFilter = anyUnit,
  gone: (holder: Holder) => boolean = nobodyLeaves,
): UnitState | undefined {
  let best: { unit: UnitState; key: number[] } | undefined;
  for (const unit of units) {
    if (!allow(unit, bytes)) continue;
    const available = availableBytes(unit, gone);
    if (available < bytes) continue;
    const empty = unit.holders.every(gone) ? 1 : 0;
    const key = [empty, available - bytes, -unit.position];
    if (!best || comesBefore(key, best.key)) best = { unit, key };
  }
  return best?.unit;
}

/** Concrete GPUs for a request from what is free now, or undefined when it does not fit; none for CPU only. */
export function findGpus(pool: Pool, resources: Resources, allow: UnitFilter = anyUnit): GpuPlacement | undefined {
  const { gpuMemory } = resources;
  if (gpuMemory !== undefined) {
    const unit = chooseSharedUnit(pool.units, gpuMemory, allow);
    return unit && { units: [unit], bytes: gpuMemory };
  }
  const count = resources.gpus ?? 0;
  if (count === 0) return { units: [] };
  const candidates = pool.units.filter((unit) => isWholeFree(unit) && allow(unit, undefined));
  const units = chooseWholeUnits(pool.units, candidates, count);
  return units && { units };
}

export const hostFits = (pool: Pool, resources: Resources) =>
  resources.cpus <= pool.freeCpus && resources.memory <= pool.freeMemory;
