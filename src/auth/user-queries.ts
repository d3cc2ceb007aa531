import { asc, eq, sql } from 'drizzle-orm';
import type { Db } from '../db/connection.ts';
import { users } from '../db/schema/auth.ts';

export type UserRecord = typeof users.$inferSelect;
export type NewUserRecord = typeof users.$inferInsert;

export function insertUser(db: Db, user: NewUserRecord): UserRecord {
  return db.insert(users).values(user).returning().get();
}

export function findUserByName(db: Db, username: string): UserRecord | undefined {
  return db.select().from(users).where(eq(users.username, username)).get();
}

/** Every request authenticated by a cached password looks its user up by id: a query built once, on first use. */
export function prepareUserById(db: Db): (id: number) => UserRecord | undefined {
  const build = () => db.select().from(users).where(eq(users.id, sql.placeholder('id'))).prepare();
  let statement: ReturnType<typeof build> | undefined;
  return (id) => (statement ??= build()).get({ id });
}

export function listUsers(db: Db): UserRecord[] {
  return db.select().from(users).orderBy(asc(users.username)).all();
}

export function countActiveAdmins(db: Db): number {
  return db
    .select({ count: sql<number>`count(*)` })
    .from(users)
    .where(sql`${users.isAdmin} = 1 and ${users.disabledAt} is null`)
    .get()!.count;
}

export function updateUserRecord(
  db: Db,
  id: number,
  changes: Partial<Pick<UserRecord, 'displayName' | 'passwordHash' | 'isAdmin' | 'disabledAt'>>,
): UserRecord {
  return db.update(users).set(changes).where(eq(users.id, id)).returning().get();
}
