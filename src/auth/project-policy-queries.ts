import { eq } from 'drizzle-orm';
import type { Db } from '../db/connection.ts';
import { projectSecurityPolicies } from '../db/schema/auth.ts';

export type ProjectPolicyRecord = typeof projectSecurityPolicies.$inferSelect;

export function findProjectPolicy(db: Db, projectId: number): ProjectPolicyRecord | undefined {
  return db.select().from(projectSecurityPolicies).where(eq(projectSecurityPolicies.projectId, projectId)).get();
}

export function upsertProjectPolicy(db: Db, policy: ProjectPolicyRecord): ProjectPolicyRecord {
  const { projectId, ...changes } = policy;
  return db
    .insert(projectSecurityPolicies)
    .values(policy)
    .onConflictDoUpdate({ target: projectSecurityPolicies.projectId, set: changes })
    .returning()
    .get();
}
