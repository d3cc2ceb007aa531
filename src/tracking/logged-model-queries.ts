import { eq } from 'drizzle-orm';
import type { Db } from '../db/connection.ts';
import { loggedModels } from '../db/schema/tracking.ts';

export type LoggedModelRecord = typeof loggedModels.$inferSelect;

export function findLoggedModel(db: Db, modelId: string): LoggedModelRecord | undefined {
  return db.select().from(loggedModels).where(eq(loggedModels.modelId, modelId)).get();
}
