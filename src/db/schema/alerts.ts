import { sql } from 'drizzle-orm';
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

export const ALERT_RULES = ['gpu-idle', 'gpu-temperature', 'disk-full', 'deployment-degraded', 'deployment-restarting', 'job-queued'] as const;
export const ALERT_SEVERITIES = ['warning', 'critical'] as const;

/**
 * What an alert rule found: one row from the moment its condition had held long enough (fired) to the moment it
 * stopped holding (resolved). Kept apart from the jobs and deployments it names, like the audit log, so it stays as history.
 */
export const alerts = sqliteTable(
  'alerts',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    rule: text('rule', { enum: ALERT_RULES }).notNull(),
    /** What the rule is about, unique per rule: a GPU's uuid, `<gpu uuid>/job-<id>`, `deployment-<id>`, `job-<id>`, `data-disk`. */
    subject: text('subject').notNull(),
    severity: text('severity', { enum: ALERT_SEVERITIES }).notNull(),
    /** The project of the job or deployment it is about; null for what concerns the whole machine. */
    projectId: integer('project_id'),
    message: text('message').notNull(),
    details: text('details', { mode: 'json' }).$type<Record<string, unknown>>().notNull().default({}),
    firedAt: integer('fired_at').notNull(),
    resolvedAt: integer('resolved_at'),
  },
  (table) => [
    // One open alert per rule and subject: a condition that goes on holding is never fired twice.
    uniqueIndex('alerts_open_idx').on(table.rule, table.subject).where(sql`resolved_at IS NULL`),
    index('alerts_resolved_idx').on(table.resolvedAt),
  ],
);
