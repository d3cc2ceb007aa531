import type { Statement } from 'better-sqlite3';
import { and, desc, eq, lte } from 'drizzle-orm';
import type { Db } from '../db/connection.ts';
import { requestSamples } from '../db/schema/serving.ts';

export type RequestSampleRecord = typeof requestSamples.$inferSelect;
export type NewRequestSampleRecord = Omit<RequestSampleRecord, 'id'>;

const COLUMNS = {
  deploymentId: 'deployment_id',
  at: 'at',
  version: 'version',
  method: 'method',
  path: 'path',
  status: 'status',
  latencyMs: 'latency_ms',
  requestContentType: 'request_content_type',
  requestBody: 'request_body',
  requestBytes: 'request_bytes',
  requestTruncated: 'request_truncated',
  responseContentType: 'response_content_type',
  responseBody: 'response_body',
  responseBytes: 'response_bytes',
  responseTruncated: 'response_truncated',
} satisfies Record<keyof NewRequestSampleRecord, string>;

/**
 * Writes sampled calls with a raw statement prepared on first use (the app is built before its database is
 * migrated): the ORM's insert costs several times the write itself, on a path every sampled call takes.
 */
export function prepareSampleInsert(db: Db): (samples: NewRequestSampleRecord[]) => void {
  let statement: Statement | undefined;
  return (samples) => {
    statement ??= db.$client.prepare(
      `INSERT INTO request_samples (${Object.values(COLUMNS).join(', ')}) VALUES (${Object.keys(COLUMNS).map((field) => `@${field}`).join(', ')})`,
    );
    for (const sample of samples) statement.run({ ...sample, requestTruncated: Number(sample.requestTruncated), responseTruncated: Number(sample.responseTruncated) });
  };
}

/** The newest `limit` samples of a deployment, newest first. */
export function listRequestSamples(db: Db, deploymentId: number, limit: number): RequestSampleRecord[] {
  return db.select().from(requestSamples).where(eq(requestSamples.deploymentId, deploymentId)).orderBy(desc(requestSamples.id)).limit(limit).all();
}

/** Deletes a deployment's samples beyond its newest `keep`; how many went. */
export function trimRequestSamples(db: Db, deploymentId: number, keep: number): number {
  const oldestGone = db
    .select({ id: requestSamples.id })
    .from(requestSamples)
    .where(eq(requestSamples.deploymentId, deploymentId))
    .orderBy(desc(requestSamples.id))
    .limit(1)
    .offset(keep)
    .get();
  if (!oldestGone) return 0;
  return db.delete(requestSamples).where(and(eq(requestSamples.deploymentId, deploymentId), lte(requestSamples.id, oldestGone.id))).run().changes;
}
