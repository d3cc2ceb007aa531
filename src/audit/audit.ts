import type { Bus } from '../lib/bus.ts';
import type { Db } from '../db/connection.ts';
import { insertAuditEvent, listAuditEvents, type AuditEvent } from './audit-queries.ts';

export type { AuditEvent };

declare module '../lib/bus.ts' {
  interface BusEvents {
    'audit.recorded': AuditEvent;
  }
}

export interface AuditEntry {
  actor: string;
  action: string;
  target?: string;
  detail?: Record<string, unknown>;
  ip?: string;
}

export interface Audit {
  record(entry: AuditEntry): void;
  list(options?: { limit?: number; before?: number }): AuditEvent[];
}

export function createAudit(deps: { db: Db; bus: Bus; now: () => number }): Audit {
  return {
    record(entry) {
      const event = insertAuditEvent(deps.db, { ...entry, at: deps.now() });
      deps.bus.publish('audit.recorded', event);
    },
    list({ limit = 100, before } = {}) {
      return listAuditEvents(deps.db, Math.min(Math.max(limit, 1), 500), before);
    },
  };
}
