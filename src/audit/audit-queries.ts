import { desc, lt } from 'drizzle-orm';
import type { Db } from '../db/connection.ts';
import { auditEvents } from '../db/schema/audit.ts';

export type AuditEvent = typeof auditEvents.$inferSelect;
export type NewAuditEvent = typeof auditEvents.$inferInsert;

export function insertAuditEvent(db: Db, event: NewAuditEvent): AuditEvent {
  return db.insert(auditEvents).values(event).returning().get();
}

/** Newest first; `before` is the id to page back from. */
export function listAuditEvents(db: Db, limit: number, before?: number): AuditEvent[] {
  const query = db.select().from(auditEvents);
  return (before ? query.where(lt(auditEvents.id, before)) : query).orderBy(desc(auditEvents.id)).limit(limit).all();
}
