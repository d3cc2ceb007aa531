import { and, desc, eq, inArray, notInArray, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/connection.ts';
import { deploymentEvents, deployments } from '../db/schema/serving.ts';

export type DeploymentRecord = typeof deployments.$inferSelect;
export type NewDeploymentRecord = typeof deployments.$inferInsert;
export type DeploymentState = DeploymentRecord['state'];
export type DeploymentEventRecord = typeof deploymentEvents.$inferSelect;
export type DeploymentEventKind = DeploymentEventRecord['kind'];
export type DeploymentChanges = Partial<Omit<DeploymentRecord, 'id' | 'projectId' | 'name' | 'createdBy' | 'createdAt'>>;

/** A stopped or failed deployment is history: it serves nothing and its name is free again. */
export const ENDED_STATES: readonly DeploymentState[] = ['stopped', 'failed'];

export function insertDeployment(db: Db, deployment: NewDeploymentRecord): DeploymentRecord {
  return db.insert(deployments).values(deployment).returning().get();
}

export function findDeployment(db: Db, id: number): DeploymentRecord | undefined {
  return db.select().from(deployments).where(eq(deployments.id, id)).get();
}

/** The deployment now holding `name`, or the latest that held it when none does. */
export function findDeploymentByName(db: Db, name: string): DeploymentRecord | undefined {
  return (
    db
      .select()
      .from(deployments)
      .where(and(eq(deployments.name, name), notInArray(deployments.state, [...ENDED_STATES])))
      .get() ?? db.select().from(deployments).where(eq(deployments.name, name)).orderBy(desc(deployments.id)).limit(1).get()
  );
}

/** Whether a deployment that has not ended holds `name`. */
export function nameTaken(db: Db, name: string): boolean {
  return db.select({ id: deployments.id }).from(deployments).where(and(eq(deployments.name, name), notInArray(deployments.state, [...ENDED_STATES]))).get() !== undefined;
}

export function listLiveDeployments(db: Db): DeploymentRecord[] {
  return db.select().from(deployments).where(notInArray(deployments.state, [...ENDED_STATES])).orderBy(deployments.id).all();
}

export interface DeploymentListFilter {
  /** Only these projects; undefined for all. */
  projectIds?: number[];
  /** Stopped and failed ones too. */
  ended: boolean;
}

export function listDeployments(db: Db, filter: DeploymentListFilter): DeploymentRecord[] {
  const conditions: SQL[] = [];
  if (filter.projectIds) conditions.push(filter.projectIds.length > 0 ? inArray(deployments.projectId, filter.projectIds) : sql`0`);
  if (!filter.ended) conditions.push(notInArray(deployments.state, [...ENDED_STATES]));
  return db
    .select()
    .from(deployments)
    .where(and(...conditions))
    .orderBy(deployments.name, desc(deployments.id))
    .all();
}

export function updateDeployment(db: Db, id: number, changes: DeploymentChanges): DeploymentRecord | undefined {
  return db.update(deployments).set(changes).where(eq(deployments.id, id)).returning().get();
}

/** Changes a deployment only while it has not ended: a stopped or failed one is never brought back by a late writer. */
export function updateLiveDeployment(db: Db, id: number, changes: DeploymentChanges): DeploymentRecord | undefined {
  return db
    .update(deployments)
    .set(changes)
    .where(and(eq(deployments.id, id), notInArray(deployments.state, [...ENDED_STATES])))
    .returning()
    .get();
}

export function insertDeploymentEvent(db: Db, event: typeof deploymentEvents.$inferInsert): void {
  db.insert(deploymentEvents).values(event).run();
}

/** The latest `limit` events, oldest first. */
export function listDeploymentEvents(db: Db, deploymentId: number, limit: number): DeploymentEventRecord[] {
  return db
    .select()
    .from(deploymentEvents)
    .where(eq(deploymentEvents.deploymentId, deploymentId))
    .orderBy(desc(deploymentEvents.id))
    .limit(limit)
    .all()
    .reverse();
}
