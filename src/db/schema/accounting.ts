import { index, integer, primaryKey, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { jobs } from './scheduler.ts';

/**
 * What the sampler saw a job use on one UTC day, summed over its rounds. Allocation is not kept here: it follows
 * from the scheduler's records. GPU-seconds count a GPU's share held by the job (a whole GPU 1, a memory slice its
 * share); `gpuSecondsMeasured` is the held time whose utilization was known, so `used / measured` is a utilization.
 */
export const jobUsageDaily = sqliteTable(
  'job_usage_daily',
  {
    jobId: integer('job_id')
      .notNull()
      .references(() => jobs.id, { onDelete: 'cascade' }),
    /** `YYYY-MM-DD`, UTC. */
    day: text('day').notNull(),
    gpuSecondsUsed: real('gpu_seconds_used').notNull().default(0),
    gpuSecondsMeasured: real('gpu_seconds_measured').notNull().default(0),
    /** Core-seconds: 1.5 cores for 10 s is 15. */
    cpuSeconds: real('cpu_seconds').notNull().default(0),
    memoryByteSeconds: real('memory_byte_seconds').notNull().default(0),
    /** How long the job's container was sampled that day. */
    sampledSeconds: real('sampled_seconds').notNull().default(0),
  },
  (table) => [primaryKey({ columns: [table.jobId, table.day] }), index('job_usage_daily_day_idx').on(table.day)],
);
