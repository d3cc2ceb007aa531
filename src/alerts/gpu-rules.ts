import { formatTime } from '../lib/format-time.ts';
import type { GpuReading, UnitHolder } from '../monitoring/sample.ts';
import type { AlertConfig, AlertRule, RoundFindings, RuleSources } from './alert-rule.ts';
import { jobSubject } from './job-subject.ts';

/** A GPU that cooled down this much below the limit is no longer too hot: a reading hovering at the limit fires once. */
const TEMPERATURE_MARGIN_C = 3;

const gpuLabel = (gpu: GpuReading) => `GPU ${gpu.index} (${gpu.name})`;
const gpuDetails = (gpu: GpuReading) => ({ gpu: gpu.uuid, gpuIndex: gpu.index, gpuName: gpu.name });

/**
 * The GPUs whose `field` this round read, with its value, and the judge of the rule's subjects: each names its GPU
 * first (`<uuid>` or `<uuid>/job-<id>`), and only a GPU that was read can tell whether its condition still holds.
 */
function readGpus(gpus: GpuReading[], field: 'utilization' | 'temperature') {
  const read = gpus.flatMap((gpu) => (gpu[field] === null ? [] : [{ gpu, value: gpu[field] }]));
  const uuids = new Set(read.map(({ gpu }) => gpu.uuid));
  return { read, judges: (subject: string) => uuids.has(subject.split('/', 1)[0]!) };
}

/** Each job once, though it may hold several MIG devices of the GPU. */
function holdingJobs(gpu: GpuReading): UnitHolder[] {
  return [...new Map(gpu.holders.map((holder) => [holder.jobId, holder])).values()];
}

/**
 * A GPU held by a job or a replica, busy under `alertGpuIdlePercent` for `alertGpuIdleAfterMs`: one alert per GPU
 * and job, in the job's project. A GPU whose utilization cannot be read (a MIG GPU) is never judged idle.
 */
export function idleGpuRule(sources: RuleSources, config: AlertConfig): AlertRule {
  const below = config.alertGpuIdlePercent / 100;
  return {
    name: 'gpu-idle',
    holdMs: config.alertGpuIdleAfterMs,
    observe(sample): RoundFindings {
      const { read, judges } = readGpus(sample.gpus, 'utilization');
      const observations = read
        .filter(({ value }) => value < below)
        .flatMap(({ gpu, value: utilization }) =>
          holdingJobs(gpu).map((holder) => ({
            subject: `${gpu.uuid}/job-${holder.jobId}`,
            over: true,
            draft(since: number) {
              const job = jobSubject(sources, holder.jobId, holder.deploymentId);
              return {
                severity: 'warning' as const,
                projectId: job.projectId,
                message: `${gpuLabel(gpu)} held by ${job.text} has been under ${config.alertGpuIdlePercent}% busy since ${formatTime(since)}`,
                details: { ...gpuDetails(gpu), ...job.details, utilization, idleSince: since },
              };
            },
          })),
        );
      return { observations, judges };
    },
  };
}

/** A GPU at or above `alertGpuTemperature` °C; machine-wide. */
export function hotGpuRule(config: AlertConfig): AlertRule {
  const limit = config.alertGpuTemperature;
  return {
    name: 'gpu-temperature',
    holdMs: 0,
    observe(sample): RoundFindings {
      const { read, judges } = readGpus(sample.gpus, 'temperature');
      const observations = read
        .filter(({ value }) => value >= limit - TEMPERATURE_MARGIN_C)
        .map(({ gpu, value: temperature }) => ({
          subject: gpu.uuid,
          over: temperature >= limit,
          draft: () => ({
            severity: 'critical' as const,
            projectId: null,
            message: `${gpuLabel(gpu)} is at ${temperature} °C, at or above the limit of ${limit} °C`,
            details: { ...gpuDetails(gpu), temperature, limit },
          }),
        }));
      return { observations, judges };
    },
  };
}
