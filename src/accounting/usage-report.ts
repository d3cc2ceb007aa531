import type { JobAllocation } from '../scheduler/job-allocation-queries.ts';
import type { Holding } from './gpu-share.ts';
import type { UsageQuery } from './usage-query.ts';
import type { UsageDay } from './usage-queries.ts';
import { DAY_MS, dayStart, secondsByDay } from './utc-days.ts';

export interface UsageFigures {
  /** GPUs held (a slice or MIG device as its share) times the hours held, from the scheduler's records. */
  allocatedGpuHours: number;
  /** The held GPUs' utilization integrated over the sampler's rounds. */
  usedGpuHours: number;
  /** The allocated GPU-hours whose utilization the sampler measured (not a MIG device's, not while it was down). */
  measuredGpuHours: number;
  /** used / measured, 0 to 1; null where nothing was measured. */
  utilization: number | null;
  /** Cores in use times hours, from the containers' samples. */
  cpuHours: number;
  memoryGibHours: number;
  /** Jobs that held GPUs or were sampled. */
  jobs: number;
}

export interface UsageDayRow extends UsageFigures {
  day: string;
}

export interface UsageGroup {
  /** The project's or the user's name; `all` when grouped by day. */
  name: string;
  /** The days with any use, in order. */
  days: UsageDayRow[];
  total: UsageFigures;
}

export interface UsageReport extends UsageQuery {
  timeZone: 'UTC';
  /** Most allocated GPU-hours first. */
  groups: UsageGroup[];
  total: UsageFigures;
}

export interface ReportInput {
  query: UsageQuery;
  now: number;
  /** Every job that held GPUs in the range or has sampled use in it. */
  jobs: JobAllocation[];
  usage: UsageDay[];
  shareOf: (job: Holding) => number;
  /** The group a job counts in; undefined for a job the viewer may not see. */
  groupOf: (job: JobAllocation) => string | undefined;
}

interface Sums {
  allocated: number;
  used: number;
  measured: number;
  cpu: number;
  memory: number;
  jobs: Set<number>;
}

const HOUR_S = 3600;
const GIB = 1024 ** 3;
const emptySums = (): Sums => ({ allocated: 0, used: 0, measured: 0, cpu: 0, memory: 0, jobs: new Set() });
/** Hours to the nearest 0.36 s: enough for any bill, free of floating-point tails in the JSON. */
const round = (value: number) => Math.round(value * 10_000) / 10_000;

function figuresOf(sums: Sums): UsageFigures {
  return {
    allocatedGpuHours: round(sums.allocated / HOUR_S),
    usedGpuHours: round(sums.used / HOUR_S),
    measuredGpuHours: round(sums.measured / HOUR_S),
    utilization: sums.measured > 0 ? round(sums.used / sums.measured) : null,
    cpuHours: round(sums.cpu / HOUR_S),
    memoryGibHours: round(sums.memory / GIB / HOUR_S),
    jobs: sums.jobs.size,
  };
}

function addInto(target: Sums, source: Sums): void {
  target.allocated += source.allocated;
  target.used += source.used;
  target.measured += source.measured;
  target.cpu += source.cpu;
  target.memory += source.memory;
  for (const id of source.jobs) target.jobs.add(id);
}

/** Each job's allocated GPU-seconds and sampled use, summed per group and per UTC day. */
export function buildUsageReport(input: ReportInput): UsageReport {
  const { query, now } = input;
  const windowStart = dayStart(query.from);
  const windowEnd = Math.min(dayStart(query.to) + DAY_MS, now);
  const groups = new Map<string, Map<string, Sums>>();
  const sumsFor = (group: string, day: string, jobId: number) => {
    const days = groups.get(group) ?? new Map<string, Sums>();
    groups.set(group, days);
    const sums = days.get(day) ?? emptySums();
    days.set(day, sums);
    sums.jobs.add(jobId);
    return sums;
  };

  const jobs = new Map(input.jobs.map((job) => [job.id, job]));
  for (const job of input.jobs) {
    const group = input.groupOf(job);
    if (group === undefined) continue;
    const share = input.shareOf(job);
    for (const period of job.periods) {
      const start = Math.max(period.start, windowStart);
      const end = Math.min(period.end ?? now, windowEnd);
      for (const { day, seconds } of secondsByDay(start, end)) sumsFor(group, day, job.id).allocated += share * seconds;
    }
  }
  for (const row of input.usage) {
    const job = jobs.get(row.jobId);
    const group = job && input.groupOf(job);
    if (group === undefined) continue;
    const sums = sumsFor(group, row.day, row.jobId);
    sums.used += row.gpuSecondsUsed;
    sums.measured += row.gpuSecondsMeasured;
    sums.cpu += row.cpuSeconds;
    sums.memory += row.memoryByteSeconds;
  }

  const total = emptySums();
  const report = [...groups].map(([name, days]) => {
    const groupTotal = emptySums();
    const rows = [...days]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([day, sums]) => {
        addInto(groupTotal, sums);
        return { day, ...figuresOf(sums) };
      });
    addInto(total, groupTotal);
    return { name, days: rows, total: figuresOf(groupTotal) };
  });
  report.sort((a, b) => b.total.allocatedGpuHours - a.total.allocatedGpuHours || a.name.localeCompare(b.name));
  return { ...query, timeZone: 'UTC', groups: report, total: figuresOf(total) };
}
