/**
 * The placement decision's input and output: plain data, no I/O. Times are milliseconds since the epoch,
 * memory is bytes, a job's GPU count may be fractional only where it stands for a share of one GPU's memory.
 */

export type JobId = number | string;

/** Something a job can be placed on: a whole GPU, or a MIG device (a unit of its own). */
export interface PlaceableGpu {
  uuid: string;
  /** nvidia-smi's index; MIG devices carry their GPU's. Neighbouring indexes stand in for NVLink/PCIe locality. */
  index: number;
  name: string;
  memoryTotal: number;
  /** As reported: already less what every process on it uses, Trainyard's jobs and anything else. */
  memoryFree: number;
  /**
   * The part of the reported use that belongs to Trainyard's own jobs, when the caller can tell. Unknown (0), a
   * job's use counts twice, once as a reservation and once as reported use: safe, but it packs less.
   */
  memoryUsedByJobs?: number;
}

/** What a job asks for: `gpus` whole GPUs, or `gpuMemory` bytes on one shared GPU, or neither (CPU only). */
export interface Resources {
  gpus?: number;
  gpuMemory?: number;
  cpus: number;
  /** Host memory, bytes. */
  memory: number;
}

interface JobBase {
  id: JobId;
  user: string;
  project: string;
  /** Higher runs first. */
  priority: number;
  resources: Resources;
  /** The job is stopped (timed out) this long after it starts; what backfill relies on. */
  timeLimitMs?: number;
}

export interface RunningJob extends JobBase {
  /** The GPUs it holds: its whole GPUs, or the one GPU its `gpuMemory` is reserved on. */
  gpuUuids: string[];
  startedAt: number;
  preemptible: boolean;
  /** Already told to stop (cancelled or preempted): it frees its resources soon and is not preempted again. */
  stopping?: boolean;
}

export interface QueuedJob extends JobBase {
  submittedAt: number;
}

/** Most GPUs a user or a project may hold at once; a `gpuMemory` job counts as its share of its GPU's memory. */
export interface Quotas {
  gpusPerUser?: number;
  gpusPerProject?: number;
  /** Per-user limits that replace `gpusPerUser`. */
  users?: ReadonlyMap<string, number>;
  projects?: ReadonlyMap<string, number>;
}

/** What the host gives to jobs in all. */
export interface HostCapacity {
  cpus: number;
  memory: number;
}

export interface PlacementPolicy {
  /**
   * The longest a job is overtaken: past this wait it goes ahead of fair share within its priority, and when it
   * is the job the others wait behind and the GPUs it waits for have no known end, backfill onto them stops.
   */
  maxOvertakeMs: number;
}

export const DEFAULT_POLICY: PlacementPolicy = { maxOvertakeMs: 60 * 60 * 1000 };

export interface PlacementInput {
  now: number;
  gpus: readonly PlaceableGpu[];
  host: HostCapacity;
  running: readonly RunningJob[];
  queue: readonly QueuedJob[];
  quotas?: Quotas;
  /** GPU-seconds each user held over a recent window the caller chooses (fair share's tie-breaker). */
  recentGpuSeconds?: ReadonlyMap<string, number>;
  policy?: Partial<PlacementPolicy>;
}

export interface StartDecision {
  jobId: JobId;
  /** Whole GPUs, or the one GPU a `gpuMemory` job is packed onto; empty for a CPU-only job. */
  gpuUuids: string[];
  gpuMemory?: number;
}

export interface PreemptDecision {
  jobId: JobId;
  forJobId: JobId;
  reason: string;
}

/**
 * Why a job waits: `impossible` (more than the host has: never starts as it is), `quota`, `resources` (not enough
 * free now), `behind` (it would fit, but only by delaying the job first in line), `preempting` (lower-priority
 * jobs are being stopped for it).
 */
export type WaitCode = 'impossible' | 'quota' | 'resources' | 'behind' | 'preempting';

export interface WaitingJob {
  jobId: JobId;
  code: WaitCode;
  /** For people, e.g. "waiting for 2 GPUs: 1 free". */
  reason: string;
  /** Only on the job first in line: what is held back for it, and when it should start if every end is known. */
  reserved?: { gpuUuids: string[]; expectedAt?: number };
}

export interface Plan {
  start: StartDecision[];
  preempt: PreemptDecision[];
  /** Every queued job not started, in the order they were considered (their place in the queue). */
  waiting: WaitingJob[];
}
