import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/** Who did what: kept apart from the tables it describes so that deleting a user keeps their history. */
export const auditEvents = sqliteTable(
  'audit_events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    at: integer('at').notNull(),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    target: text('target').notNull().default(''),
    detail: text('detail', { mode: 'json' }).$type<Record<string, unknown>>().notNull().default({}),
    ip: text('ip').notNull().default(''),
  },
  (table) => [index('audit_events_at_idx').on(table.at)],
);
