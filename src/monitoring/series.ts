/** What a chart asks the monitoring store for; the store picks the finest tier that still covers `from`. */
export type SeriesSubject =
  | { kind: 'gpu'; uuid: string }
  | { kind: 'host' }
  | { kind: 'job'; jobId: number }
  /** The sum over the deployment's replica jobs at each time. */
  | { kind: 'deployment'; deploymentId: number };

/** The fields each subject's series carries, named as in `MonitorSample`'s readings. */
export const SERIES_FIELDS = {
  gpu: ['utilization', 'memoryUsed', 'memoryTotal', 'temperature', 'powerDraw', 'powerLimit'],
  host: ['cpu', 'load1', 'memoryUsed', 'memoryTotal', 'diskUsed', 'diskTotal', 'netRxBytesPerSecond', 'netTxBytesPerSecond'],
  job: ['cpu', 'memoryBytes', 'gpuMemoryBytes'],
  deployment: ['cpu', 'memoryBytes', 'gpuMemoryBytes'],
} as const satisfies Record<SeriesSubject['kind'], readonly string[]>;

export interface SeriesQuery {
  subject: SeriesSubject;
  /** ms since the epoch, inclusive. */
  from: number;
  to: number;
  /** At most this many points come back (averaged into wider buckets when there are more); 1,000 by default. */
  maxPoints?: number;
}

/** Columns in uPlot's shape: `at` (ms) and one array per field, aligned; a gap is null. */
export interface Series {
  /** The width of one point: the stored tier's resolution, or wider when points were merged. */
  resolutionMs: number;
  at: number[];
  fields: Record<string, Array<number | null>>;
}
