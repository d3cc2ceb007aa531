import { and, asc, eq, sql } from 'drizzle-orm';
import type { Db } from '../db/connection.ts';
import { projectMembers, projects, users } from '../db/schema/auth.ts';

export type ProjectRecord = typeof projects.$inferSelect;
export type Role = (typeof projectMembers.$inferSelect)['role'];

export function insertProject(db: Db, project: typeof projects.$inferInsert): ProjectRecord {
  return db.insert(projects).values(project).returning().get();
}

export function findProjectByName(db: Db, name: string): ProjectRecord | undefined {
  return db.select().from(projects).where(eq(projects.name, name)).get();
}

/** Built once and kept: every request inside a project looks its project up (per call, drizzle builds the SQL anew). */
export function prepareProjectById(db: Db): (id: number) => ProjectRecord | undefined {
  const build = () => db.select().from(projects).where(eq(projects.id, sql.placeholder('id'))).prepare();
  let statement: ReturnType<typeof build> | undefined;
  return (id) => (statement ??= build()).get({ id });
}

export function listProjects(db: Db): ProjectRecord[] {
  return db.select().from(projects).orderBy(asc(projects.name)).all();
}

export function listProjectsOfUser(db: Db, userId: number): Array<{ project: ProjectRecord; role: Role }> {
  return db
    .select({ project: projects, role: projectMembers.role })
    .from(projectMembers)
    .innerJoin(projects, eq(projects.id, projectMembers.projectId))
    .where(eq(projectMembers.userId, userId))
    .orderBy(asc(projects.name))
    .all();
}

export function listMembers(db: Db, projectId: number): Array<{ username: string; displayName: string; role: Role }> {
  return db
    .select({ username: users.username, displayName: users.displayName, role: projectMembers.role })
    .from(projectMembers)
    .innerJoin(users, eq(users.id, projectMembers.userId))
    .where(eq(projectMembers.projectId, projectId))
    .orderBy(asc(users.username))
    .all();
}

/** A member's role, by a statement built once: asked on every request inside a project. */
export function prepareRoleOf(db: Db): (projectId: number, userId: number) => Role | undefined {
  const build = () =>
    db
      .select({ role: projectMembers.role })
      .from(projectMembers)
      .where(and(eq(projectMembers.projectId, sql.placeholder('projectId')), eq(projectMembers.userId, sql.placeholder('userId'))))
      .prepare();
  let statement: ReturnType<typeof build> | undefined;
  return (projectId, userId) => (statement ??= build()).get({ projectId, userId })?.role;
}

export function upsertMember(db: Db, projectId: number, userId: number, role: Role): void {
  db.insert(projectMembers)
    .values({ projectId, userId, role })
    .onConflictDoUpdate({ target: [projectMembers.projectId, projectMembers.userId], set: { role } })
    .run();
}

export function deleteMember(db: Db, projectId: number, userId: number): boolean {
  return (
    db
      .delete(projectMembers)
      .where(and(eq(projectMembers.projectId, projectId), eq(projectMembers.userId, userId)))
      .run().changes > 0
  );
}
