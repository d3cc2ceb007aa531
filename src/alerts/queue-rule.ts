import { formatTime } from '../lib/format-time.ts';
import type { JobRecord } from '../scheduler/jobs.ts';
import { judgesAll, type AlertConfig, type AlertRule, type RuleSources } from './alert-rule.ts';
import { jobSubject } from './job-subject.ts';

/** Since it was submitted, or since its retry's back-off ended: a retry waiting out its back-off is not stuck. */
const queuedSince = (job: JobRecord) => Math.max(job.submittedAt, job.notBefore ?? 0);

/** A job (a replica included) queued for `alertJobQueuedAfterMs`, by its own times, so a restart does not start the count over. */
export function queuedJobRule(sources: RuleSources, config: AlertConfig): AlertRule {
  return {
    name: 'job-queued',
    holdMs: 0,
    observe(sample) {
      const observations = sources.jobs
        .inStates(['queued'])
        .filter((job) => sample.at - queuedSince(job) >= config.alertJobQueuedAfterMs)
        .map((job) => ({
          subject: `job-${job.id}`,
          over: true,
          draft: () => {
            const subject = jobSubject(sources, job.id, job.deploymentId);
            return {
              severity: 'warning' as const,
              projectId: subject.projectId,
              message: `${subject.text} has waited in the queue since ${formatTime(queuedSince(job))}: ${job.reason}`,
              details: { ...subject.details, queuedSince: queuedSince(job), reason: job.reason },
            };
          },
        }));
      return { observations, judges: judgesAll };
    },
  };
}
