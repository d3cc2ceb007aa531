import type { Db } from '../db/connection.ts';
import type { MonitorSample } from './sample.ts';
import { RAW } from './tiers.ts';

/** Which tier rows are written to, and how many raw rounds each stands for. */
export interface TierRows {
  resolution: number;
  samples: number;
}

const RAW_ROWS: TierRows = { resolution: RAW, samples: 1 };

export type SampleWrites = ReturnType<typeof createSampleWrites>;

/** Writes sampler rounds through prepared statements, each call in one transaction (the ORM costs several times more here). */
export function createSampleWrites(db: Db) {
  const client = db.$client;
  // OR REPLACE: a round taken twice in the same millisecond (a test's frozen clock) keeps the later one.
  const gpu = client.prepare(
    `INSERT OR REPLACE INTO gpu_samples (resolution, gpu_uuid, at, samples, utilization, memory_used, memory_total, temperature, power_draw, power_limit)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const host = client.prepare(
    `INSERT OR REPLACE INTO host_samples (resolution, at, samples, cpu, load1, memory_used, memory_total, disk_used, disk_total,
       net_rx_bytes_per_second, net_tx_bytes_per_second)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const container = client.prepare(
    `INSERT OR REPLACE INTO container_samples (resolution, job_id, at, samples, deployment_id, cpu, memory_bytes, gpu_memory_bytes)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );

  const writeAll = client.transaction((rounds: readonly MonitorSample[], { resolution, samples }: TierRows) => {
    for (const { at, gpus, host: reading, containers } of rounds) {
      for (const g of gpus) gpu.run(resolution, g.uuid, at, samples, g.utilization, g.memoryUsed, g.memoryTotal, g.temperature, g.powerDraw, g.powerLimit);
      if (reading) {
        host.run(resolution, at, samples, reading.cpu, reading.load1, reading.memoryUsed, reading.memoryTotal, reading.diskUsed, reading.diskTotal,
          reading.netRxBytesPerSecond, reading.netTxBytesPerSecond);
      }
      for (const c of containers) container.run(resolution, c.jobId, at, samples, c.deploymentId, c.cpu, c.memoryBytes, c.gpuMemoryBytes);
    }
  });

  return {
    /** Raw rows by default; a simulation may fill a coarser tier directly. */
    write(rounds: readonly MonitorSample[], tier: TierRows = RAW_ROWS): void {
      writeAll(rounds, tier);
    },
  };
}
