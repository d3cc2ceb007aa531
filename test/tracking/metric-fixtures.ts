import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import type { Caller } from '../../src/tracking/tracking.ts';
import { ROOT } from '../helpers/processes.ts';
import { ADMIN, createTestApp, type TestApp } from '../helpers/test-app.ts';

/** A point as a client sends it: NaN and the infinities as protobuf JSON's strings. */
export interface WirePoint {
  key: string;
  value: number | 'NaN' | 'Infinity' | '-Infinity';
  timestamp: number;
  step: number;
}

const MIGRATIONS = join(ROOT, 'migrations');

/** The statements of the migration that made `metric_buckets` which fill it from the points already stored. */
function backfillStatements(): string[] {
  const migration = readdirSync(MIGRATIONS)
    .filter((name) => name.endsWith('.sql'))
    .map((name) => readFileSync(join(MIGRATIONS, name), 'utf8'))
    .find((sql) => sql.includes('CREATE TABLE `metric_buckets`'));
  if (!migration) throw new Error('no migration creates metric_buckets');
  return migration.split('--> statement-breakpoint').filter((statement) => statement.includes('INSERT INTO `metric_buckets`'));
}

/**
 * Rebuilds every run's rollups from the stored points with the migration's own SQL: for tests that write points
 * straight into `metrics`, which the ingest would have rolled up.
 */
export function rebuildMetricBuckets(client: Database.Database): void {
  client.exec('DELETE FROM metric_buckets');
  for (const statement of backfillStatements()) client.exec(statement);
}

/** A test app with an experiment to make runs in, and the tracking domain called directly, as the routes do. */
export async function createMetricFixture() {
  const t: TestApp = await createTestApp();
  const caller: Caller = { user: t.app.users.get(ADMIN.username) };
  const { experiments, runs, metrics } = t.app.tracking;
  const experimentId = experiments.create(caller, { name: 'rollups' }).experiment_id;
  const client = t.app.db.$client;
  const storedBuckets = client.prepare(
    `SELECT key, bucket, count, first_step, first_timestamp, first_value, last_step, last_timestamp, last_value,
            min_value, min_value_step, max_value, max_value_step
       FROM metric_buckets WHERE run_uuid = ? ORDER BY key, bucket`,
  );

  return {
    t,
    caller,
    newRun: (): string => runs.create(caller, { experiment_id: experimentId }).run.info.run_id,
    /** Logs the points in this order through log-batch, `batchSize` a call (1000 at most, as MLflow allows). */
    logPoints(runId: string, points: WirePoint[], batchSize = 1000): void {
      for (let start = 0; start < points.length; start += batchSize) {
        metrics.logBatch(caller, { run_id: runId, metrics: points.slice(start, start + batchSize) });
      }
    },
    /** A run's rollup rows as stored (NaN reads back as null). */
    storedBuckets: (runId: string) => storedBuckets.all(runId),
    backfillBuckets: () => rebuildMetricBuckets(client),
    /**
     * `count` points of `key` at steps 0, `stride`, 2 `stride`, ..., written straight into `metrics` in one
     * statement (a million points through log-batch would take seconds), their rollups then rebuilt by the migration.
     * `valueSql` computes each value from `i`, the point's index.
     */
    insertHistory(runId: string, key: string, count: number, valueSql: string, stride = 1): void {
      client
        .prepare(
          `INSERT INTO metrics (run_uuid, key, value, timestamp, step)
           WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1)
           SELECT ?, ?, ${valueSql}, 1700000000000 + i, i * ? FROM n`,
        )
        .run(count, runId, key, stride);
      rebuildMetricBuckets(client);
    },
  };
}

export type MetricFixture = Awaited<ReturnType<typeof createMetricFixture>>;
