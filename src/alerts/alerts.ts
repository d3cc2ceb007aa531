import type { Projects } from '../auth/projects.ts';
import type { UserRecord } from '../auth/user-queries.ts';
import type { Db } from '../db/connection.ts';
import type { Bus } from '../lib/bus.ts';
import type { Log } from '../lib/log.ts';
import type { MonitorSample } from '../monitoring/sample.ts';
import {
  countOpenAlerts,
  deleteAlertsResolvedBefore,
  findOpenAlert,
  insertAlert,
  listAlerts,
  listOpenAlerts,
  resolveAlert,
  type AlertRecord,
  type AlertState,
  type RuleName,
} from './alert-queries.ts';
import type { AlertConfig, AlertRule, RuleSources } from './alert-rule.ts';
import { createAlertTracker } from './alert-tracker.ts';
import { degradedDeploymentRule, restartingDeploymentRule } from './deployment-rules.ts';
import { fullDiskRule } from './disk-rule.ts';
import { hotGpuRule, idleGpuRule } from './gpu-rules.ts';
import { queuedJobRule } from './queue-rule.ts';
import type { AlertChange } from './webhook-payload.ts';
import { createWebhookSink, type WebhookTimings } from './webhook-sink.ts';

export type { AlertRecord, AlertState, RuleName };

declare module '../lib/bus.ts' {
  interface BusEvents {
    /** An alert fired (`resolvedAt` null) or resolved. */
    'alert.changed': { alert: AlertRecord };
  }
}

export interface Alerts {
  /** Takes up the alerts left open by the last run, then evaluates every rule on each `monitoring.sample`. */
  start(): void;
  /** Stops evaluating; webhook notices not yet sent are given up (they stay recorded). */
  stop(): Promise<void>;
  /** The alerts `user` may see (their projects' and the machine-wide ones), open ones first, then the latest. */
  list(user: UserRecord, filter: { state: AlertState; limit: number }): AlertRecord[];
  openCount(user: UserRecord): number;
  /** Whether `user` may see `alert`: a machine-wide one, or one in a project they can see. */
  canSee(user: UserRecord, alert: AlertRecord): boolean;
}

export interface AlertsDeps extends RuleSources {
  db: Db;
  bus: Bus;
  log: Log;
  projects: Pick<Projects, 'visibleIds'>;
  config: AlertConfig;
  /** The webhook's timeout and retries; the defaults suit a chat server. */
  webhookTimings?: Partial<WebhookTimings>;
}

/** Resolved alerts are kept this long, so that a condition that keeps coming back does not grow the table forever. */
const RETENTION_MS = 90 * 86_400_000;
const PRUNE_EVERY_MS = 3_600_000;

/**
 * In-process alert rules, evaluated on each round of the sampler: the GPU and disk rules on the sample's readings,
 * the deployment and queue rules on the jobs and deployments as they stand. Each alert is recorded when it fires and
 * again when it resolves, published as `alert.changed` and, with `alertWebhookUrl`, POSTed to the webhook.
 */
export function createAlerts(deps: AlertsDeps): Alerts {
  const { db, bus, log, projects, config } = deps;
  const sink = config.alertWebhookUrl
    ? createWebhookSink({ url: config.alertWebhookUrl, log, ...(config.publicUrl && { publicUrl: config.publicUrl }), ...(deps.webhookTimings && { timings: deps.webhookTimings }) })
    : undefined;

  const changed = (change: AlertChange, alert: AlertRecord) => {
    log.info({ alert: alert.id, rule: alert.rule, subject: alert.subject, severity: alert.severity }, change === 'fired' ? 'an alert fired' : 'an alert resolved');
    sink?.send(change, alert);
    try {
      bus.publish('alert.changed', { alert });
    } catch (error) {
      log.warn({ err: error, alert: alert.id }, 'a listener of alert changes failed');
    }
  };

  const tracker = createAlertTracker({
    fire(rule, subject, draft, at) {
      const inserted = insertAlert(db, { rule, subject, ...draft, firedAt: at });
      // Open already: recorded by a round that failed after it, and told then.
      if (!inserted) return findOpenAlert(db, rule, subject)!;
      changed('fired', inserted);
      return inserted;
    },
    resolve(alert, at) {
      const resolved = resolveAlert(db, alert.id, at);
      if (resolved) changed('resolved', resolved);
    },
  });

  const rules: AlertRule[] = [
    idleGpuRule(deps, config),
    hotGpuRule(config),
    fullDiskRule(config),
    degradedDeploymentRule(deps, config),
    restartingDeploymentRule(deps, config),
    queuedJobRule(deps, config),
  ];
  /** Rules whose last round failed, so that a lasting failure is logged once, not on every sample. */
  const failing = new Set<RuleName>();
  let prunedAt = -Infinity;
  let unsubscribe: (() => void) | undefined;

  function prune(at: number) {
    if (at - prunedAt < PRUNE_EVERY_MS) return;
    prunedAt = at;
    try {
      deleteAlertsResolvedBefore(db, at - RETENTION_MS);
    } catch (error) {
      log.warn({ err: error }, 'could not delete old resolved alerts');
    }
  }

  /** Never throws: it runs inside the sampler's publish. */
  function evaluate(sample: MonitorSample) {
    for (const rule of rules) {
      try {
        tracker.apply(rule, rule.observe(sample), sample.at);
        if (failing.delete(rule.name)) log.info({ rule: rule.name }, 'the alert rule is evaluated again');
      } catch (error) {
        if (!failing.has(rule.name)) log.warn({ err: error, rule: rule.name }, 'could not evaluate an alert rule; it is tried again on the next sample');
        failing.add(rule.name);
      }
    }
    prune(sample.at);
  }

  return {
    start() {
      if (unsubscribe) return;
      for (const alert of listOpenAlerts(db)) tracker.adopt(alert);
      unsubscribe = bus.subscribe('monitoring.sample', evaluate);
    },
    async stop() {
      unsubscribe?.();
      unsubscribe = undefined;
      await sink?.close();
    },
    list: (user, filter) => listAlerts(db, { ...filter, projectIds: projects.visibleIds(user) }),
    openCount: (user) => countOpenAlerts(db, projects.visibleIds(user)),
    canSee(user, { projectId }) {
      const visible = projects.visibleIds(user);
      return projectId === null || visible === undefined || visible.includes(projectId);
    },
  };
}
