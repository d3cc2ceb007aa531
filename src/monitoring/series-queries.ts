import type Database from 'better-sqlite3';
import type { Db } from '../db/connection.ts';
import { weightedAverage } from './rollup-queries.ts';
import { tableOf } from './sample-tables.ts';
import type { SeriesSubject } from './series.ts';

/** The rows of one tier that a chart reads: `resolution`'s rows with `from <= at < until`. */
export interface SeriesPart {
  resolution: number;
  from: number;
  until: number;
}

/** Points in time order: `at` (a bucket's start) and one value per field, in SERIES_FIELDS order (./series.ts). */
export type SeriesRow = [at: number, ...values: Array<number | null>];

const subjectCondition: Record<SeriesSubject['kind'], string> = {
  gpu: 'gpu_uuid = @subject',
  host: '1',
  job: 'job_id = @subject',
  deployment: 'deployment_id = @subject',
};

const subjectValue = (subject: SeriesSubject): string | number | null =>
  subject.kind === 'gpu' ? subject.uuid : subject.kind === 'job' ? subject.jobId : subject.kind === 'deployment' ? subject.deploymentId : null;

/** One tier's rows of the subject; a deployment's replicas are summed at each time first. */
function partSql(kind: SeriesSubject['kind'], i: number): string {
  const table = tableOf(kind);
  const columns = Object.values(table.columns);
  const where = `resolution = @resolution${i} AND ${subjectCondition[kind]} AND at >= @from${i} AND at < @until${i}`;
  if (kind !== 'deployment') return `SELECT at, samples, ${columns.join(', ')} FROM ${table.name} WHERE ${where}`;
  const sums = columns.map((column) => `sum(${column}) AS ${column}`);
  return `SELECT at, max(samples) AS samples, ${sums.join(', ')} FROM ${table.name} WHERE ${where} GROUP BY at`;
}

/**
 * Averages the parts' rows into buckets of `width` ms (1 keeps every row), in SQLite: a 30-day chart reads
 * ~43,000 minute rows and hands back at most a thousand.
 */
function seriesSql(kind: SeriesSubject['kind'], parts: number): string {
  const columns = Object.values(tableOf(kind).columns);
  const union = Array.from({ length: parts }, (_, i) => partSql(kind, i)).join('\nUNION ALL\n');
  return `SELECT at - at % @width AS bucket, ${columns.map(weightedAverage).join(', ')}
    FROM (${union}) GROUP BY bucket ORDER BY bucket`;
}

export type SeriesReads = ReturnType<typeof createSeriesReads>;

export function createSeriesReads(db: Db) {
  const statements = new Map<string, Database.Statement>();
  const statementFor = (kind: SeriesSubject['kind'], parts: number) => {
    const key = `${kind}:${parts}`;
    let statement = statements.get(key);
    if (!statement) statements.set(key, (statement = db.$client.prepare(seriesSql(kind, parts)).raw()));
    return statement;
  };

  return {
    /** The subject's points from `parts` (each tier's own range, no two overlapping), in buckets of `width`. */
    read(subject: SeriesSubject, parts: readonly SeriesPart[], width: number): SeriesRow[] {
      const params: Record<string, number | string | null> = { width };
      if (subject.kind !== 'host') params.subject = subjectValue(subject);
      parts.forEach((part, i) => Object.assign(params, { [`resolution${i}`]: part.resolution, [`from${i}`]: part.from, [`until${i}`]: part.until }));
      return statementFor(subject.kind, parts.length).all(params) as SeriesRow[];
    },
  };
}
