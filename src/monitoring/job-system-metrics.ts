import type { Users } from '../auth/users.ts';
import { placeableUnits, type GpuInventory, type GpuSnapshot } from '../gpu/gpu-inventory.ts';
import type { Log } from '../lib/log.ts';
import type { JobRecord, Jobs } from '../scheduler/jobs.ts';
import type { Tracking } from '../tracking/tracking.ts';

/** A reading of one of a job's GPUs (or MIG devices), as MLflow's own system-metrics monitor names it. */
interface UnitReading {
  memoryUsed: number | null;
  memoryTotal: number | null;
  utilization: number | null;
  powerDraw: number | null;
  powerLimit: number | null;
}

const percentOf = (part: number | null, whole: number | null) => (part === null || !whole ? null : (part / whole) * 100);

/** MLflow's `system/gpu_<i>_...` metrics, with its units: percentages, megabytes (10^6 bytes) and watts. */
const SYSTEM_METRICS: ReadonlyArray<{ suffix: string; read: (unit: UnitReading) => number | null }> = [
  { suffix: 'utilization_percentage', read: (unit) => (unit.utilization === null ? null : unit.utilization * 100) },
  { suffix: 'memory_usage_megabytes', read: (unit) => (unit.memoryUsed === null ? null : unit.memoryUsed / 1e6) },
  { suffix: 'memory_usage_percentage', read: (unit) => percentOf(unit.memoryUsed, unit.memoryTotal) },
  { suffix: 'power_usage_watts', read: (unit) => unit.powerDraw },
  { suffix: 'power_usage_percentage', read: (unit) => percentOf(unit.powerDraw, unit.powerLimit) },
];

const roundToTenth = (value: number) => Math.round(value * 10) / 10;

/** Each placeable unit's reading: a whole GPU's own, a MIG device's memory (nvidia-smi gives it nothing else). */
function readingsByUuid(snapshot: GpuSnapshot): Map<string, UnitReading> {
  const gpus = new Map(snapshot.devices.map((gpu) => [gpu.uuid, gpu]));
  return new Map(
    placeableUnits(snapshot).map((unit): [string, UnitReading] => {
      const gpu = unit.parentUuid === null ? gpus.get(unit.uuid) : undefined;
      return [unit.uuid, {
        memoryUsed: unit.memoryUsed,
        memoryTotal: unit.memoryTotal,
        utilization: gpu?.utilization ?? null,
        powerDraw: gpu?.powerDraw ?? null,
        powerLimit: gpu?.powerLimit ?? null,
      }];
    }),
  );
}

export interface JobSystemMetricsDeps {
  gpus: Pick<GpuInventory, 'list'>;
  jobs: Pick<Jobs, 'inStates'>;
  users: Pick<Users, 'byId'>;
  tracking: { metrics: Pick<Tracking['metrics'], 'logBatch'> };
  log: Log;
}

export interface JobSystemMetrics {
  /** One round: every running job with GPUs and an MLflow run gets one point per metric and GPU; a run that cannot take them is logged once. */
  record(): Promise<void>;
  start(): void;
  /** Stops the timer and waits for a round in progress. */
  stop(): Promise<void>;
}

/**
 * While a job runs on GPUs, its MLflow run gets `system/gpu_<i>_utilization_percentage`,
 * `system/gpu_<i>_memory_usage_megabytes` and the rest of MLflow's GPU system metrics (i: the position in the
 * job's GPU list), written as the job's user through the tracking ingest, as log-batch writes them. Steps count
 * each run's samples, as MLflow's monitor does.
 */
export function createJobSystemMetrics(deps: JobSystemMetricsDeps, intervalMs: number): JobSystemMetrics {
  const { gpus, jobs, users, tracking, log } = deps;
  const steps = new Map<string, number>();
  /** Runs whose write failed, so each failure is logged once, not at every round. */
  const failing = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let round: Promise<void> | undefined;

  const pointsOf = (job: JobRecord, readings: Map<string, UnitReading>, timestamp: number, step: number) =>
    job.gpuUuids.flatMap((uuid, position) => {
      const reading = readings.get(uuid);
      if (!reading) return [];
      return SYSTEM_METRICS.flatMap(({ suffix, read }) => {
        const value = read(reading);
        return value === null ? [] : [{ key: `system/gpu_${position}_${suffix}`, value: roundToTenth(value), timestamp, step }];
      });
    });

  const write = (job: JobRecord, runId: string, metrics: ReturnType<typeof pointsOf>) => {
    try {
      const user = users.byId(job.userId);
      if (!user) throw new Error(`user ${job.userId} no longer exists`);
      tracking.metrics.logBatch({ user }, { run_id: runId, metrics });
      steps.set(runId, (steps.get(runId) ?? 0) + 1);
      if (failing.delete(runId)) log.info({ job: job.id, run: runId }, 'system metrics of the job are written again');
    } catch (error) {
      if (!failing.has(runId)) log.warn({ err: error, job: job.id, run: runId }, 'could not write the system metrics of a job to its run');
      failing.add(runId);
    }
  };

  async function record(): Promise<void> {
    const running = jobs.inStates(['running']).filter((job) => job.gpuUuids.length > 0 && job.mlflowRunId !== null);
    const runIds = new Set(running.map((job) => job.mlflowRunId!));
    for (const runId of steps.keys()) if (!runIds.has(runId)) steps.delete(runId);
    for (const runId of failing) if (!runIds.has(runId)) failing.delete(runId);
    if (running.length === 0) return;
    let snapshot: GpuSnapshot;
    try {
      snapshot = await gpus.list();
    } catch (error) {
      log.warn({ err: error }, 'no GPU sample for the system metrics of running jobs');
      return;
    }
    // A failed sample carries the last good readings: they are not new points.
    if (snapshot.problem !== undefined) return;
    const readings = readingsByUuid(snapshot);
    for (const job of running) {
      const runId = job.mlflowRunId!;
      const metrics = pointsOf(job, readings, snapshot.sampledAt, steps.get(runId) ?? 0);
      if (metrics.length > 0) write(job, runId, metrics);
    }
  }

  return {
    record,
    start() {
      timer ??= setInterval(() => {
        round ??= record()
          .catch((error: unknown) => log.warn({ err: error }, 'a round of the system metrics of running jobs failed'))
          .finally(() => (round = undefined));
      }, intervalMs).unref();
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      await round;
    },
  };
}
