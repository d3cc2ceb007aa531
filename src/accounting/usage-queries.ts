import { and, gte, lte } from 'drizzle-orm';
import type { Db } from '../db/connection.ts';
import { jobUsageDaily } from '../db/schema/accounting.ts';

/** A job's sampled use on one UTC day; also what one sampler round adds to it. */
export type UsageDay = typeof jobUsageDaily.$inferSelect;

/**
 * Adds rounds' figures to their (job, day) rows in one transaction: a raw prepared statement, as this runs on
 * every sampler round (the ORM's insert builder costs several times as much per row).
 */
export function prepareUsageUpsert(db: Db): (rows: readonly UsageDay[]) => void {
  const upsert = db.$client.prepare(
    `INSERT INTO job_usage_daily (job_id, day, gpu_seconds_used, gpu_seconds_measured, cpu_seconds, memory_byte_seconds, sampled_seconds)
     VALUES (@jobId, @day, @gpuSecondsUsed, @gpuSecondsMeasured, @cpuSeconds, @memoryByteSeconds, @sampledSeconds)
     ON CONFLICT (job_id, day) DO UPDATE SET
       gpu_seconds_used = gpu_seconds_used + excluded.gpu_seconds_used,
       gpu_seconds_measured = gpu_seconds_measured + excluded.gpu_seconds_measured,
       cpu_seconds = cpu_seconds + excluded.cpu_seconds,
       memory_byte_seconds = memory_byte_seconds + excluded.memory_byte_seconds,
       sampled_seconds = sampled_seconds + excluded.sampled_seconds`,
  );
  return db.$client.transaction((rows: readonly UsageDay[]) => {
    for (const row of rows) upsert.run(row);
  });
}

/** Every job's rows from day `from` to day `to`, both included. */
export function listUsageDays(db: Db, from: string, to: string): UsageDay[] {
  return db
    .select()
    .from(jobUsageDaily)
    .where(and(gte(jobUsageDaily.day, from), lte(jobUsageDaily.day, to)))
    .all();
}
