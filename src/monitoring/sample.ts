/**
 * One round of the sampler: what every GPU, the host and each job's or replica's container was doing.
 * Units as in the GPU inventory: bytes, ratios 0..1, °C, watts; rates per second. A reading the source could not
 * give is null, never 0. Published on the bus as `monitoring.sample` for accounting, alerts and the live pages.
 */
export interface MonitorSample {
  /** When the round was taken (ms since the epoch). */
  at: number;
  /** Time covered by this round: since the previous round, capped at twice the interval (a paused process does not bill hours). */
  intervalMs: number;
  gpus: GpuReading[];
  /** null when the host could not be read this round. */
  host: HostReading | null;
  containers: ContainerReading[];
  /** What this round could not read, and why (`nvidia-smi timed out after 5s`, `docker stats of job 12: ...`). */
  skipped: string[];
}

/** Who holds a placeable unit (a whole GPU, or one of its MIG devices): a job, or a deployment's replica job. */
export interface UnitHolder {
  /** The GPU itself or its MIG device's `MIG-…` uuid. */
  unitUuid: string;
  jobId: number;
  /** Set when the job is a replica of a deployment. */
  deploymentId: number | null;
}

export interface GpuReading {
  uuid: string;
  index: number;
  name: string;
  utilization: number | null;
  memoryUsed: number | null;
  memoryTotal: number | null;
  temperature: number | null;
  powerDraw: number | null;
  powerLimit: number | null;
  /** From the scheduler's placements (running jobs' GPU uuids); empty when the GPU is free. */
  holders: UnitHolder[];
}

export interface HostReading {
  /** Busy share of all cores, 0..1. */
  cpu: number;
  load1: number;
  memoryUsed: number;
  memoryTotal: number;
  /** The file system that holds the data directory. */
  diskUsed: number;
  diskTotal: number;
  netRxBytesPerSecond: number | null;
  netTxBytesPerSecond: number | null;
}

/** A running job's container (a replica's included). */
export interface ContainerReading {
  jobId: number;
  deploymentId: number | null;
  /** Cores in use (1.5 = one and a half cores). */
  cpu: number | null;
  memoryBytes: number | null;
  /** GPU memory held by the container's processes (nvidia-smi's compute apps matched to the container's PIDs). */
  gpuMemoryBytes: number | null;
}

declare module '../lib/bus.ts' {
  interface BusEvents {
    /** The sampler finished a round. */
    'monitoring.sample': MonitorSample;
  }
}
