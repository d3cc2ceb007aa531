import type { Projects } from '../auth/projects.ts';
import type { UserRecord } from '../auth/user-queries.ts';
import type { AlertRecord, AlertSeverity, RuleName } from './alert-queries.ts';

/** An alert as the API answers it and the alerts page shows it: times in ms since the epoch. */
export interface AlertJson {
  id: number;
  rule: RuleName;
  subject: string;
  severity: AlertSeverity;
  state: 'open' | 'resolved';
  /** The project of the job or deployment it is about; null for the whole machine. */
  project: string | null;
  message: string;
  details: Record<string, unknown>;
  firedAt: number;
  resolvedAt: number | null;
}

/** Writes alerts for `viewer`, naming the projects it may see. */
export function alertJsonWriter(projects: Pick<Projects, 'listFor'>, viewer: UserRecord) {
  const names = new Map(projects.listFor(viewer).map(({ project }) => [project.id, project.name]));
  return (alert: AlertRecord): AlertJson => ({
    id: alert.id,
    rule: alert.rule,
    subject: alert.subject,
    severity: alert.severity,
    state: alert.resolvedAt === null ? 'open' : 'resolved',
    project: alert.projectId === null ? null : (names.get(alert.projectId) ?? `project ${alert.projectId}`),
    message: alert.message,
    details: alert.details,
    firedAt: alert.firedAt,
    resolvedAt: alert.resolvedAt,
  });
}
