import { Gauge, type Registry } from 'prom-client';
import type { JobState } from '../scheduler/jobs.ts';
import type { Observation } from './observation.ts';

export const ACTIVE_JOB_STATES: JobState[] = ['queued', 'starting', 'running'];

/**
 * When a queued job began to wait: its submission, or the end of its retry back-off (a job still in its
 * back-off is not waiting for the scheduler yet). The queue keeps no time of a requeue after preemption.
 */
const waitingSince = (job: Observation['activeJobs'][number]) => Math.max(job.submittedAt, job.notBefore ?? 0);

/** The scheduler's gauges: jobs per active state, and the longest wait in the queue. */
export function registerJobGauges(registry: Registry, observed: () => Observation): void {
  new Gauge({
    name: 'trainyard_jobs',
    help: 'Jobs and serving replicas by state (queued, starting, running)',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const counts = new Map(ACTIVE_JOB_STATES.map((state) => [state, 0]));
      for (const job of observed().activeJobs) counts.set(job.state, (counts.get(job.state) ?? 0) + 1);
      for (const [state, count] of counts) this.set({ state }, count);
    },
  });
  new Gauge({
    name: 'trainyard_job_queue_wait_seconds',
    help: 'How long the longest-waiting queued job has waited, in seconds (0 when none waits)',
    registers: [registry],
    collect() {
      const { at, activeJobs } = observed();
      const longest = activeJobs
        .filter((job) => job.state === 'queued')
        .map(waitingSince)
        .reduce((oldest, since) => (since <= at && since < oldest ? since : oldest), at);
      this.set((at - longest) / 1000);
    },
  });
}
