import { cpus, totalmem } from 'node:os';
import { placeableUnits, type GpuSnapshot } from '../gpu/gpu-inventory.ts';
import type { JobRecord } from './job-queries.ts';
import type { HostCapacity, PlaceableGpu, PlacementInput, QueuedJob, Quotas, Resources, RunningJob } from './placement-types.ts';

const GIB = 1024 ** 3;
/** What the host keeps for itself and the appliance: a quarter of its memory, at most 4 GiB. */
const HOST_MEMORY_RESERVE = (total: number) => Math.min(4 * GIB, total / 4);

export function hostCapacity(): HostCapacity {
  const memory = totalmem();
  return { cpus: cpus().length, memory: memory - HOST_MEMORY_RESERVE(memory) };
}

/**
 * The snapshot's units as the planner takes them: with their GPU's index (MIG devices their parent's), and only
 * those whose memory is known. `usedByJobs` is the memory the scheduler knows its own jobs use on a unit.
 */
export function placeableGpus(snapshot: GpuSnapshot, usedByJobs: ReadonlyMap<string, number> = new Map()): PlaceableGpu[] {
  const indexOf = new Map(snapshot.devices.map((device) => [device.uuid, device.index]));
  return placeableUnits(snapshot).flatMap((unit): PlaceableGpu[] => {
    const index = indexOf.get(unit.parentUuid ?? unit.uuid);
    if (unit.memoryTotal === null || index === undefined) return [];
    const memoryFree = unit.memoryFree ?? unit.memoryTotal - (unit.memoryUsed ?? 0);
    const reportedUse = Math.max(0, unit.memoryTotal - memoryFree);
    const memoryUsedByJobs = Math.min(reportedUse, usedByJobs.get(unit.uuid) ?? 0);
    return [{ uuid: unit.uuid, index, name: unit.name, memoryTotal: unit.memoryTotal, memoryFree, ...(memoryUsedByJobs > 0 && { memoryUsedByJobs }) }];
  });
}

export function resourcesOf(job: JobRecord): Resources {
  return {
    ...(job.gpus > 0 && { gpus: job.gpus }),
    ...(job.gpuMemory !== null && { gpuMemory: job.gpuMemory }),
    cpus: job.cpus ?? 0,
    memory: job.memory ?? 0,
  };
}

/** Who a job counts against for fair share and quotas: ids, which never change when someone is renamed. */
const owners = (job: JobRecord) => ({ user: `user ${job.userId}`, project: `project ${job.projectId}` });

function common(job: JobRecord) {
  return {
    id: job.id,
    ...owners(job),
    priority: job.priority,
    resources: resourcesOf(job),
    ...(job.timeLimitMs !== null && { timeLimitMs: job.timeLimitMs }),
  };
}

export interface PlacementState {
  now: number;
  gpus: readonly PlaceableGpu[];
  host: HostCapacity;
  /** Jobs that are starting or running: they hold what they were given. */
  holding: readonly JobRecord[];
  /** Queued jobs whose back-off (if any) is over. */
  waiting: readonly JobRecord[];
  /** Jobs already told to stop (cancel, time limit, preemption): they free their resources soon. */
  stopping: (job: JobRecord) => boolean;
  quotas?: Quotas;
}

/** The planner's input for this moment: the machine, what holds it, and who waits. */
export function placementInput(state: PlacementState): PlacementInput {
  const running = state.holding.map(
    (job): RunningJob => ({
      ...common(job),
      gpuUuids: job.gpuUuids,
      startedAt: job.startedAt ?? state.now,
      preemptible: job.preemptible,
      ...(state.stopping(job) && { stopping: true }),
    }),
  );
  const queue = state.waiting.map((job): QueuedJob => ({ ...common(job), submittedAt: job.submittedAt }));
  return { now: state.now, gpus: state.gpus, host: state.host, running, queue, ...(state.quotas && { quotas: state.quotas }) };
}
