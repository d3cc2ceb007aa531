import type { MonitorSample } from '../monitoring/sample.ts';
import type { UsageDay } from './usage-queries.ts';
import { secondsByDay } from './utc-days.ts';

type Figures = Omit<UsageDay, 'jobId' | 'day'>;

const NOTHING: Figures = { gpuSecondsUsed: 0, gpuSecondsMeasured: 0, cpuSeconds: 0, memoryByteSeconds: 0, sampledSeconds: 0 };

/**
 * What one sampler round adds to each job's days. The round covers `intervalMs` up to `at`, cut at UTC midnight.
 * A GPU's utilization counts for each job holding it in proportion to the share it holds (a whole GPU all of it,
 * a slice of the memory that share), so `used / measured` is the utilization of what the job was given. A MIG
 * device's utilization is unknown (nvidia-smi reports none under MIG): its time is neither used nor measured.
 * `gpuMemoryOf` gives a job's `gpuMemory` reservation (null for whole units), undefined for a job that does not exist.
 */
export function usageOfRound(sample: MonitorSample, gpuMemoryOf: (jobId: number) => number | null | undefined): UsageDay[] {
  const perJob = new Map<number, Figures>();
  const add = (jobId: number, figures: Partial<Figures>) => {
    const sum = perJob.get(jobId) ?? { ...NOTHING };
    for (const [key, value] of Object.entries(figures) as Array<[keyof Figures, number]>) sum[key] += value;
    perJob.set(jobId, sum);
  };
  const seconds = sample.intervalMs / 1000;

  for (const gpu of sample.gpus) {
    if (gpu.utilization === null) continue;
    for (const holder of gpu.holders) {
      const gpuMemory = gpuMemoryOf(holder.jobId);
      if (holder.unitUuid !== gpu.uuid || gpuMemory === undefined) continue;
      const share = gpuMemory === null ? 1 : gpu.memoryTotal ? Math.min(1, gpuMemory / gpu.memoryTotal) : undefined;
      if (share !== undefined) add(holder.jobId, { gpuSecondsUsed: gpu.utilization * share * seconds, gpuSecondsMeasured: share * seconds });
    }
  }
  for (const container of sample.containers) {
    if (gpuMemoryOf(container.jobId) === undefined) continue;
    add(container.jobId, {
      cpuSeconds: (container.cpu ?? 0) * seconds,
      memoryByteSeconds: (container.memoryBytes ?? 0) * seconds,
      sampledSeconds: seconds,
    });
  }

  const parts = secondsByDay(sample.at - sample.intervalMs, sample.at);
  return [...perJob].flatMap(([jobId, figures]) =>
    parts.map(({ day, seconds: part }) => {
      const fraction = part / seconds;
      return {
        jobId,
        day,
        gpuSecondsUsed: figures.gpuSecondsUsed * fraction,
        gpuSecondsMeasured: figures.gpuSecondsMeasured * fraction,
        cpuSeconds: figures.cpuSeconds * fraction,
        memoryByteSeconds: figures.memoryByteSeconds * fraction,
        sampledSeconds: figures.sampledSeconds * fraction,
      };
    }),
  );
}
