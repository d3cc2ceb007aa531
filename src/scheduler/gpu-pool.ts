import type { HostCapacity, JobId, PlaceableGpu, PlacementInput, Resources, RunningJob } from './placement-types.ts';

/** One job's hold on a unit: the whole unit (`bytes` undefined) or a reservation of its memory. */
export interface Holder {
  jobId: JobId;
  bytes?: number;
  /** When the hold is expected to end: a time limit's end, now for a job that is stopping, Infinity if unknown. */
  endsAt: number;
}

export interface UnitState {
  gpu: PlaceableGpu;
  /** Place in index order: what locality and fragmentation are measured in. */
  position: number;
  /** Memory in use by anything but Trainyard's jobs (as far as the report tells). */
  foreign: number;
  usedByJobs: number;
  holders: Holder[];
}

/** A job that holds resources during this decision: running, started by it, or waiting on preempted jobs. */
export interface HeldJob {
  id: JobId;
  user: string;
  project: string;
  priority: number;
  cpus: number;
  memory: number;
  units: UnitState[];
  endsAt: number;
  /** Only jobs that were already running may be preempted. */
  running?: RunningJob;
  /** Stopping for a job that waits for its resources: not counted on a second time. */
  reclaimed?: boolean;
}

/** The machine as one decision sees it; it changes as the decision starts jobs and claims resources. */
export interface Pool {
  now: number;
  units: UnitState[];
  host: HostCapacity;
  freeCpus: number;
  freeMemory: number;
  jobs: HeldJob[];
  userShare: Map<string, number>;
  projectShare: Map<string, number>;
  largestMemory: number;
}

export const isWholeFree = (unit: UnitState) => unit.holders.length === 0;

/** Memory a new reservation may take on a unit if the holders `gone` picks had left (none by default). */
export function availableBytes(unit: UnitState, gone: (holder: Holder) => boolean = () => false): number {
  let reserved = 0;
  let removed = 0;
  let wholeRemains = false;
  let wholeRemoved = false;
  for (const holder of unit.holders) {
    const leaves = gone(holder);
    if (holder.bytes === undefined) {
      if (leaves) wholeRemoved = true;
      else wholeRemains = true;
    } else if (leaves) removed += holder.bytes;
    else reserved += holder.bytes;
  }
  if (wholeRemains) return 0;
  // A job is assumed to use at most what it reserved; what it used leaves with it.
  const used = wholeRemoved ? 0 : Math.max(0, unit.usedByJobs - removed);
  return Math.max(0, unit.gpu.memoryTotal - unit.foreign - Math.max(reserved, used));
}

/** How much of the GPU quota a request takes: its GPU count, or its memory as a share of the GPU it is on. */
export function shareOf(resources: Resources, memoryTotal: number): number {
  if (resources.gpuMemory !== undefined) return memoryTotal > 0 ? Math.min(1, resources.gpuMemory / memoryTotal) : 1;
  return resources.gpus ?? 0;
}

const addTo = (map: Map<string, number>, key: string, amount: number) => map.set(key, (map.get(key) ?? 0) + amount);

export interface Holding {
  job: Omit<HeldJob, 'units'>;
  units: UnitState[];
  /** A `gpuMemory` reservation on the (single) unit; whole units otherwise. */
  bytes?: number;
  share: number;
}

/** Records a hold: on its units, the host's free CPUs and memory, and its user's and project's GPU share. */
export function hold(pool: Pool, { job, units, bytes, share }: Holding): void {
  for (const unit of units) unit.holders.push({ jobId: job.id, bytes, endsAt: job.endsAt });
  pool.freeCpus -= job.cpus;
  pool.freeMemory -= job.memory;
  addTo(pool.userShare, job.user, share);
  addTo(pool.projectShare, job.project, share);
  pool.jobs.push({ ...job, units });
}

/** A job told to stop by this decision (or already stopping) whose resources a waiting job now counts on. */
export function reclaim(pool: Pool, held: HeldJob): void {
  held.reclaimed = true;
  held.endsAt = Math.min(held.endsAt, pool.now);
  for (const unit of held.units) {
    for (const holder of unit.holders) if (holder.jobId === held.id) holder.endsAt = held.endsAt;
  }
}

function sortedUnits(gpus: readonly PlaceableGpu[]): UnitState[] {
  const sorted = [...gpus].sort((a, b) => a.index - b.index || (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0));
  return sorted.map((gpu, position) => {
    const usedByJobs = Math.max(0, gpu.memoryUsedByJobs ?? 0);
    const foreign = Math.max(0, gpu.memoryTotal - gpu.memoryFree - usedByJobs);
    return { gpu, position, foreign, usedByJobs, holders: [] };
  });
}

function expectedEnd(job: RunningJob, now: number): number {
  if (job.stopping) return now;
  return job.timeLimitMs === undefined ? Infinity : Math.max(now, job.startedAt + job.timeLimitMs);
}

export function createPool(input: PlacementInput): Pool {
  const units = sortedUnits(input.gpus);
  const byUuid = new Map(units.map((unit) => [unit.gpu.uuid, unit]));
  const pool: Pool = {
    now: input.now,
    units,
    host: input.host,
    freeCpus: input.host.cpus,
    freeMemory: input.host.memory,
    jobs: [],
    userShare: new Map(),
    projectShare: new Map(),
    largestMemory: Math.max(0, ...units.map((unit) => unit.gpu.memoryTotal)),
  };
  for (const job of input.running) {
    // A GPU that vanished from the inventory holds nothing; the job still counts against its quota.
    const held = job.gpuUuids.flatMap((uuid) => byUuid.get(uuid) ?? []);
    const { resources, user, project, priority } = job;
    hold(pool, {
      job: { id: job.id, user, project, priority, cpus: resources.cpus, memory: resources.memory, endsAt: expectedEnd(job, input.now), running: job },
      units: held,
      bytes: resources.gpuMemory,
      share:
        resources.gpuMemory === undefined
          ? Math.max(job.gpuUuids.length, resources.gpus ?? 0)
          : shareOf(resources, held[0]?.gpu.memoryTotal ?? 0),
    });
  }
  return pool;
}
