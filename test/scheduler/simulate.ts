import type { HostCapacity, PlaceableGpu, Plan, PlacementInput, RunningJob } from '../../src/scheduler/placement-types.ts';
import type { SyntheticJob } from './synthetic-jobs.ts';

/**
 * A discrete-event replay of a workload through a placement function: at every submission and every job end the
 * function decides with the state of that moment, and the jobs it starts run for their real duration (a job's
 * memory use is its reservation, and the simulated GPUs report it as such). Nothing is preempted.
 */

export type Decide = (input: PlacementInput) => Plan;

export interface JobOutcome {
  job: SyntheticJob;
  startedAt: number;
  gpuUuids: string[];
}

export interface SimulationResult {
  outcomes: JobOutcome[];
  /** GPU time used (a shared job counts its share of its GPU) over GPU time available, first submission to last end. */
  utilisation: number;
  makespanMs: number;
  maxWaitMs: number;
  meanWaitMs: number;
  /** 1 GPU, GPU memory, or CPU only. */
  meanWaitSmallMs: number;
  /** 4 GPUs or more. */
  maxWaitLargeMs: number;
}

const RECENT_WINDOW_MS = 24 * 3600_000;

function gpuShare(job: SyntheticJob, memoryTotal: number): number {
  return job.resources.gpuMemory === undefined ? (job.resources.gpus ?? 0) : job.resources.gpuMemory / memoryTotal;
}

/** The simulated inventory: memory free as the jobs' reservations leave it, all of it known to be theirs. */
function reportGpus(gpus: readonly PlaceableGpu[], running: readonly RunningJob[]): PlaceableGpu[] {
  return gpus.map((gpu) => {
    const used = running
      .filter((job) => job.gpuUuids.includes(gpu.uuid))
      .reduce((sum, job) => sum + (job.resources.gpuMemory ?? gpu.memoryTotal), 0);
    return { ...gpu, memoryFree: Math.max(0, gpu.memoryTotal - used), memoryUsedByJobs: used };
  });
}

function recentGpuSeconds(outcomes: readonly JobOutcome[], now: number, memoryTotal: number): Map<string, number> {
  const seconds = new Map<string, number>();
  for (const { job, startedAt } of outcomes) {
    const from = Math.max(startedAt, now - RECENT_WINDOW_MS);
    const to = Math.min(now, startedAt + job.durationMs);
    if (to > from) seconds.set(job.user, (seconds.get(job.user) ?? 0) + ((to - from) / 1000) * gpuShare(job, memoryTotal));
  }
  return seconds;
}

const mean = (values: readonly number[]) => (values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length);

export function simulate(jobs: readonly SyntheticJob[], gpus: readonly PlaceableGpu[], host: HostCapacity, decide: Decide): SimulationResult {
  const pending = [...jobs].sort((a, b) => a.submittedAt - b.submittedAt);
  const byId = new Map(jobs.map((job) => [job.id, job]));
  const memoryTotal = gpus[0]?.memoryTotal ?? 1;
  const outcomes: JobOutcome[] = [];
  let running: Array<RunningJob & { endsAt: number }> = [];
  let queue: SyntheticJob[] = [];
  while (pending.length > 0 || queue.length > 0) {
    const nextEnd = Math.min(...running.map((job) => job.endsAt));
    const now = Math.min(pending[0]?.submittedAt ?? Infinity, nextEnd);
    if (now === Infinity) throw new Error(`stuck: ${queue.length} jobs wait and nothing runs`);
    running = running.filter((job) => job.endsAt > now);
    while (pending.length > 0 && pending[0]!.submittedAt <= now) queue.push(pending.shift()!);
    const plan = decide({
      now,
      gpus: reportGpus(gpus, running),
      host,
      running,
      queue: queue.map(({ durationMs: _, ...job }) => job),
      recentGpuSeconds: recentGpuSeconds(outcomes, now, memoryTotal),
    });
    for (const start of plan.start) {
      const job = byId.get(start.jobId)!;
      outcomes.push({ job, startedAt: now, gpuUuids: start.gpuUuids });
      running.push({ ...job, gpuUuids: start.gpuUuids, startedAt: now, preemptible: false, endsAt: now + job.durationMs });
    }
    const started = new Set(plan.start.map((start) => start.jobId));
    queue = queue.filter((job) => !started.has(job.id));
  }
  const firstSubmit = Math.min(...jobs.map((job) => job.submittedAt));
  const lastEnd = Math.max(...outcomes.map(({ job, startedAt }) => startedAt + job.durationMs));
  const gpuTime = outcomes.reduce((sum, { job }) => sum + gpuShare(job, memoryTotal) * job.durationMs, 0);
  const waits = outcomes.map(({ job, startedAt }) => ({ job, wait: startedAt - job.submittedAt }));
  const small = waits.filter(({ job }) => (job.resources.gpus ?? 1) <= 1);
  const large = waits.filter(({ job }) => (job.resources.gpus ?? 0) >= 4);
  return {
    outcomes,
    utilisation: gpuTime / (gpus.length * (lastEnd - firstSubmit)),
    makespanMs: lastEnd - firstSubmit,
    maxWaitMs: Math.max(...waits.map(({ wait }) => wait)),
    meanWaitMs: mean(waits.map(({ wait }) => wait)),
    meanWaitSmallMs: mean(small.map(({ wait }) => wait)),
    maxWaitLargeMs: Math.max(0, ...large.map(({ wait }) => wait)),
  };
}
