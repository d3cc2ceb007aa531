/**
 * What the appliance knows about its GPUs at one moment. Units are fixed for every source:
 * memory in bytes, utilization as a ratio 0..1 (nvidia-smi's percent / 100), temperature in °C, power in watts.
 * A reading nvidia-smi could not give (`[N/A]`, `[Not Supported]`, a MIG GPU's utilization) is null, never 0.
 */
export type GpuSourceKind = 'nvidia' | 'simulated' | 'none';

export interface GpuSnapshot {
  kind: GpuSourceKind;
  /** When these readings were taken (ms since the epoch); older than now when the latest sample failed. */
  sampledAt: number;
  devices: GpuDevice[];
  /** Compute processes on any GPU; under MIG, nvidia-smi names the parent GPU's UUID. */
  processes: GpuProcess[];
  /** Why the latest sample failed, when it did: the devices are then those of the last good sample (or none). */
  problem?: string;
}

export interface GpuDevice {
  index: number;
  /** `GPU-…` (`GPU-fake-…` when simulated): what the scheduler places onto and Docker's DeviceIDs name. */
  uuid: string;
  name: string;
  memoryTotal: number | null;
  memoryUsed: number | null;
  memoryFree: number | null;
  utilization: number | null;
  temperature: number | null;
  powerDraw: number | null;
  powerLimit: number | null;
  /** null where the GPU has no MIG support. */
  migMode: 'enabled' | 'disabled' | null;
  /** The GPU's MIG devices when MIG is enabled; the GPU itself then runs nothing directly. */
  migDevices: MigDevice[];
}

export interface MigDevice {
  /** `MIG-…`: placeable on its own, like a GPU. */
  uuid: string;
  parentUuid: string;
  /** The device's number within its GPU (`nvidia-smi -L`'s "Device N"). */
  index: number;
  /** The MIG profile, e.g. `3g.40gb`. */
  profile: string;
  memoryTotal: number | null;
  memoryUsed: number | null;
  memoryFree: number | null;
}

export interface GpuProcess {
  pid: number;
  gpuUuid: string;
  usedMemory: number | null;
}

export interface GpuInventory {
  readonly kind: GpuSourceKind;
  /** The current snapshot; callers within a short window share one sample instead of each running nvidia-smi. */
  list(): Promise<GpuSnapshot>;
  /**
   * What the scheduler believes a GPU is doing (utilization 0..1, memory in bytes held by its jobs).
   * Simulated GPUs report it in their samples; real GPUs are measured, so their inventory ignores it.
   */
  setLoad(uuid: string, utilization: number, memoryBytes: number): void;
}

/** A parser's verdict on a line it could not use: the sample goes on without it. */
export interface SkippedLine {
  line: string;
  reason: string;
}
