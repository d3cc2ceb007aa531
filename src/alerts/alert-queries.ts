import { and, count, desc, eq, inArray, isNotNull, isNull, lt, or, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/connection.ts';
import { alerts } from '../db/schema/alerts.ts';

export type AlertRecord = typeof alerts.$inferSelect;
export type NewAlertRecord = typeof alerts.$inferInsert;
export type RuleName = AlertRecord['rule'];
export type AlertSeverity = AlertRecord['severity'];
export type AlertState = 'open' | 'resolved' | 'all';

/** The open alert of `rule` about `subject`; undefined when one is open already (the partial unique index holds it). */
export function insertAlert(db: Db, alert: NewAlertRecord): AlertRecord | undefined {
  return db.insert(alerts).values(alert).onConflictDoNothing().returning().get();
}

export function findOpenAlert(db: Db, rule: RuleName, subject: string): AlertRecord | undefined {
  return db
    .select()
    .from(alerts)
    .where(and(eq(alerts.rule, rule), eq(alerts.subject, subject), isNull(alerts.resolvedAt)))
    .get();
}

/** Undefined when it was resolved already. */
export function resolveAlert(db: Db, id: number, at: number): AlertRecord | undefined {
  return db
    .update(alerts)
    .set({ resolvedAt: at })
    .where(and(eq(alerts.id, id), isNull(alerts.resolvedAt)))
    .returning()
    .get();
}

export function listOpenAlerts(db: Db): AlertRecord[] {
  return db.select().from(alerts).where(isNull(alerts.resolvedAt)).orderBy(alerts.id).all();
}

/** Alerts of these projects and the machine-wide ones (no project); all when `projectIds` is undefined. */
function visibleTo(projectIds: number[] | undefined): SQL | undefined {
  if (projectIds === undefined) return undefined;
  return projectIds.length > 0 ? or(isNull(alerts.projectId), inArray(alerts.projectId, projectIds)) : isNull(alerts.projectId);
}

const STATE_FILTERS: Record<AlertState, SQL | undefined> = {
  open: isNull(alerts.resolvedAt),
  resolved: isNotNull(alerts.resolvedAt),
  all: undefined,
};

export interface AlertListFilter {
  state: AlertState;
  projectIds: number[] | undefined;
  limit: number;
}

/** Open ones first, then the latest fired first. */
export function listAlerts(db: Db, filter: AlertListFilter): AlertRecord[] {
  return db
    .select()
    .from(alerts)
    .where(and(STATE_FILTERS[filter.state], visibleTo(filter.projectIds)))
    .orderBy(sql`${alerts.resolvedAt} IS NOT NULL`, desc(alerts.id))
    .limit(filter.limit)
    .all();
}

export function countOpenAlerts(db: Db, projectIds: number[] | undefined): number {
  return db
    .select({ open: count() })
    .from(alerts)
    .where(and(isNull(alerts.resolvedAt), visibleTo(projectIds)))
    .get()!.open;
}

export function deleteAlertsResolvedBefore(db: Db, at: number): void {
  db.delete(alerts).where(lt(alerts.resolvedAt, at)).run();
}
