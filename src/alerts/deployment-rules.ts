import { formatTime } from '../lib/format-time.ts';
import type { DeploymentRecord } from '../serving/deployments.ts';
import { judgesAll, type AlertConfig, type AlertRule, type RuleSources } from './alert-rule.ts';

const subjectOf = (deployment: DeploymentRecord) => `deployment-${deployment.id}`;
const deploymentDetails = (deployment: DeploymentRecord) => ({ deploymentId: deployment.id, deployment: deployment.name });

/**
 * Fewer replicas ready than asked for, after the deployment was first ready (degraded, or down to none and
 * starting again), for `alertDeploymentDegradedAfterMs`; a deployment that never was ready is its queued replicas' matter.
 */
export function degradedDeploymentRule(sources: RuleSources, config: AlertConfig): AlertRule {
  return {
    name: 'deployment-degraded',
    holdMs: config.alertDeploymentDegradedAfterMs,
    observe() {
      const observations = sources.deployments
        .live()
        .filter((deployment) => deployment.readyAt !== null && deployment.state !== 'ready')
        .map((deployment) => ({
          subject: subjectOf(deployment),
          over: true,
          draft: (since: number) => ({
            severity: deployment.state === 'degraded' ? ('warning' as const) : ('critical' as const),
            projectId: deployment.projectId,
            message: `deployment "${deployment.name}" has not had all its replicas ready since ${formatTime(since)}: ${deployment.state}, ${deployment.reason}`,
            details: { ...deploymentDetails(deployment), state: deployment.state, reason: deployment.reason },
          }),
        }));
      return { observations, judges: judgesAll };
    },
  };
}

/** `alertReplicaRestarts` replica restarts of one deployment within `alertReplicaRestartWindowMs`: a restart loop. */
export function restartingDeploymentRule(sources: RuleSources, config: AlertConfig): AlertRule {
  const windowMs = config.alertReplicaRestartWindowMs;
  const threshold = config.alertReplicaRestarts;
  // A restart also moves the deployment's state (two events, down and up): this many latest events hold enough restarts.
  const eventsRead = Math.max(50, threshold * 5);
  return {
    name: 'deployment-restarting',
    holdMs: 0,
    observe(sample) {
      const observations = sources.deployments
        .live()
        .filter((deployment) => deployment.readyAt !== null)
        .flatMap((deployment) => {
          const restarts = sources.deployments.events(deployment.id, eventsRead).filter((event) => event.kind === 'replica' && event.at > sample.at - windowMs);
          if (restarts.length < threshold) return [];
          const [first, last] = [restarts[0]!, restarts.at(-1)!];
          return [{
            subject: subjectOf(deployment),
            over: true,
            draft: () => ({
              severity: 'critical' as const,
              projectId: deployment.projectId,
              message: `deployment "${deployment.name}" restarted replicas ${restarts.length} times since ${formatTime(first.at)}; the last: ${last.message.split('\n', 1)[0]}`,
              details: { ...deploymentDetails(deployment), restarts: restarts.length, windowMs, lastRestart: last.message },
            }),
          }];
        });
      return { observations, judges: judgesAll };
    },
  };
}
