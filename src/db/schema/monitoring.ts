import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/**
 * The sampler's time series, one wide table per subject. `resolution` is the tier: 0 holds one row per sampler
 * round (raw), 60000 and 3600000 hold minute and hour averages, each row stamped with its bucket's start.
 * `samples` counts the raw rounds behind a row, so coarser averages weigh each bucket by what it holds.
 * Values are stored as `MonitorSample` reads them (bytes, ratios 0..1, °C, watts, cores); a reading nobody could
 * give is NULL, and averages leave NULLs out.
 */
const tierColumns = () => ({
  resolution: integer('resolution').notNull(),
  at: integer('at').notNull(),
  samples: integer('samples').notNull(),
});

export const gpuSamples = sqliteTable(
  'gpu_samples',
  {
    ...tierColumns(),
    gpuUuid: text('gpu_uuid').notNull(),
    utilization: real('utilization'),
    memoryUsed: real('memory_used'),
    memoryTotal: real('memory_total'),
    temperature: real('temperature'),
    powerDraw: real('power_draw'),
    powerLimit: real('power_limit'),
  },
  (table) => [
    primaryKey({ columns: [table.resolution, table.gpuUuid, table.at] }),
    // Downsampling and retention read a tier by time across every subject.
    index('gpu_samples_time_idx').on(table.resolution, table.at),
  ],
);

export const hostSamples = sqliteTable(
  'host_samples',
  {
    ...tierColumns(),
    cpu: real('cpu'),
    load1: real('load1'),
    memoryUsed: real('memory_used'),
    memoryTotal: real('memory_total'),
    diskUsed: real('disk_used'),
    diskTotal: real('disk_total'),
    netRxBytesPerSecond: real('net_rx_bytes_per_second'),
    netTxBytesPerSecond: real('net_tx_bytes_per_second'),
  },
  (table) => [primaryKey({ columns: [table.resolution, table.at] })],
);

/** A running job's (or a deployment replica's) container; `deploymentId` is set for replicas. */
export const containerSamples = sqliteTable(
  'container_samples',
  {
    ...tierColumns(),
    jobId: integer('job_id').notNull(),
    deploymentId: integer('deployment_id'),
    cpu: real('cpu'),
    memoryBytes: real('memory_bytes'),
    gpuMemoryBytes: real('gpu_memory_bytes'),
  },
  (table) => [
    primaryKey({ columns: [table.resolution, table.jobId, table.at] }),
    index('container_samples_time_idx').on(table.resolution, table.at),
    index('container_samples_deployment_idx').on(table.resolution, table.deploymentId, table.at).where(sql`deployment_id IS NOT NULL`),
  ],
);

/** How far each coarser tier has been rolled up: every bucket that starts before `rolledUntil` is final. */
export const monitoringRollups = sqliteTable('monitoring_rollups', {
  resolution: integer('resolution').primaryKey(),
  rolledUntil: integer('rolled_until').notNull(),
});
