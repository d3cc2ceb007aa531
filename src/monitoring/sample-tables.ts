import { SERIES_FIELDS, type SeriesSubject } from './series.ts';

/** A subject's table: the columns that name one subject, and each series field's column. */
export interface SampleTable {
  name: 'gpu_samples' | 'host_samples' | 'container_samples';
  /** What a rollup groups by besides the bucket. */
  subjectColumns: readonly string[];
  /** Carried along unchanged by a rollup (the same for every row of a subject). */
  attributeColumns: readonly string[];
  /** Field name (as in SERIES_FIELDS) to column. */
  columns: Readonly<Record<string, string>>;
}

const columnsOf = (fields: readonly string[]) =>
  Object.fromEntries(fields.map((field) => [field, field.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`)]));

export const GPU_TABLE: SampleTable = { name: 'gpu_samples', subjectColumns: ['gpu_uuid'], attributeColumns: [], columns: columnsOf(SERIES_FIELDS.gpu) };
export const HOST_TABLE: SampleTable = { name: 'host_samples', subjectColumns: [], attributeColumns: [], columns: columnsOf(SERIES_FIELDS.host) };
export const CONTAINER_TABLE: SampleTable = {
  name: 'container_samples',
  subjectColumns: ['job_id'],
  attributeColumns: ['deployment_id'],
  columns: columnsOf(SERIES_FIELDS.job),
};

export const SAMPLE_TABLES = [GPU_TABLE, HOST_TABLE, CONTAINER_TABLE] as const;

export const tableOf = (kind: SeriesSubject['kind']): SampleTable =>
  kind === 'gpu' ? GPU_TABLE : kind === 'host' ? HOST_TABLE : CONTAINER_TABLE;
