import type { Db } from '../db/connection.ts';
import { SAMPLE_TABLES, type SampleTable } from './sample-tables.ts';

/** A field's average over the rows of a group, each weighted by the raw rounds it stands for; NULLs are left out. */
export const weightedAverage = (column: string) => `sum(${column} * samples) / sum(CASE WHEN ${column} IS NOT NULL THEN samples END)`;

/**
 * Rolls one tier's rows in [@from, @until) into buckets of @target (a REPLACE: rolling a bucket again gives the
 * same row), inserted subject by subject so that each subject's rows of the batch lie together.
 */
function rollupSql(table: SampleTable): string {
  const values = Object.values(table.columns);
  const columns = [...table.subjectColumns, ...table.attributeColumns, ...values];
  const selected = [
    ...table.subjectColumns,
    ...table.attributeColumns.map((column) => `max(${column})`),
    ...values.map(weightedAverage),
  ];
  return `INSERT OR REPLACE INTO ${table.name} (resolution, at, samples, ${columns.join(', ')})
    SELECT @target, at - at % @target, sum(samples), ${selected.join(', ')}
      FROM ${table.name} WHERE resolution = @source AND at >= @from AND at < @until
     GROUP BY ${[...table.subjectColumns, 'at - at % @target'].join(', ')}
     ORDER BY ${[...table.subjectColumns, 'at - at % @target'].join(', ')}`;
}

export type Rollups = ReturnType<typeof createRollups>;

export function createRollups(db: Db) {
  const client = db.$client;
  const statements = SAMPLE_TABLES.map((table) => ({
    rollup: client.prepare(rollupSql(table)),
    earliest: client.prepare(`SELECT min(at) FROM ${table.name} WHERE resolution = ?`).pluck(),
    expire: client.prepare(`DELETE FROM ${table.name} WHERE rowid IN (SELECT rowid FROM ${table.name} WHERE resolution = ? AND at < ? LIMIT ?)`),
    count: client.prepare(`SELECT count(*) FROM ${table.name} WHERE resolution = ?`).pluck(),
  }));
  const watermark = client.prepare('SELECT rolled_until FROM monitoring_rollups WHERE resolution = ?').pluck();
  const setWatermark = client.prepare(
    'INSERT INTO monitoring_rollups (resolution, rolled_until) VALUES (?, ?) ON CONFLICT (resolution) DO UPDATE SET rolled_until = excluded.rolled_until',
  );

  const rollUp = client.transaction((source: number, target: number, from: number, until: number) => {
    for (const { rollup } of statements) rollup.run({ source, target, from, until });
    setWatermark.run(target, until);
  });

  return {
    /** Every bucket of `resolution` that starts before this is final; undefined before the first rollup. */
    watermark(resolution: number): number | undefined {
      return (watermark.get(resolution) as number | undefined) ?? undefined;
    },
    /** The earliest row of a tier in any table. */
    earliest(resolution: number): number | undefined {
      const times = statements.map(({ earliest }) => earliest.get(resolution) as number | null).filter((at) => at !== null);
      return times.length === 0 ? undefined : Math.min(...times);
    },
    /** Averages the `source` rows in [from, until) into `target` buckets and moves the target's watermark to `until`. */
    rollUp(source: number, target: number, from: number, until: number): void {
      rollUp(source, target, from, until);
    },
    /** Deletes up to `limit` rows of a tier older than `before` from each table; the number deleted. */
    expire(resolution: number, before: number, limit: number): number {
      return statements.reduce((deleted, { expire }) => deleted + expire.run(resolution, before, limit).changes, 0);
    },
    /** Rows of a tier per table, e.g. `{ gpu_samples: 17280, ... }`. */
    rowCounts(resolution: number): Record<SampleTable['name'], number> {
      return Object.fromEntries(SAMPLE_TABLES.map((table, i) => [table.name, statements[i]!.count.get(resolution) as number])) as Record<SampleTable['name'], number>;
    },
  };
}
