import type { Db } from '../db/connection.ts';
import type { Caller } from './access.ts';
import { entry, entryText, int64Of, invalidValue, list, missingValue, runIdOf, type Message } from './message-fields.ts';
import type { MetricPoint, MetricStatements } from './metric-queries.ts';
import { addToBuckets, type MetricBucket } from './metric-rollup.ts';
import { parseMetricValue } from './metric-values.ts';
import type { RunLookup } from './run-lookup.ts';
import { checkUniqueParamKeys, PARAM_LIMITS, RUN_TAG_LIMITS, writeParams, writeRunTags } from './run-writes.ts';
import { checkBatchLimits, checkName, keyValues } from './validation.ts';

type Empty = Record<string, never>;

export interface MetricIngest {
  logMetric(caller: Caller, message: Message): Empty;
  /** Up to 1000 metrics, 100 params and 100 tags, written all or nothing. */
  logBatch(caller: Caller, message: Message): Empty;
}

/** Whether `a` is later than `b` by MLflow's rule: step, then timestamp, then value (NaN as 0). */
function isLater(a: MetricPoint, b: MetricPoint): boolean {
  if (a.step !== b.step) return a.step > b.step;
  if (a.timestamp !== b.timestamp) return a.timestamp > b.timestamp;
  return (Number.isNaN(a.value) ? 0 : a.value) > (Number.isNaN(b.value) ? 0 : b.value);
}

/**
 * One metric of a request, checked by hand: this runs a thousand times per log-batch call.
 * `path` names the metric in errors (`metrics[3]`, or '' for log-metric); `knownKeys` skips re-checking a name.
 */
function metricPoint(item: Message, path: string, knownKeys: Set<string>): MetricPoint {
  const name = (field: string) => (path ? `${path}.${field}` : field);
  const key = entryText(item, 'key', path, true)!;
  if (!knownKeys.has(key)) knownKeys.add(checkName('Metric name', key, name('key')));
  const raw = item.value;
  if (raw === undefined || raw === null) throw missingValue(name('value'));
  const value = parseMetricValue(raw);
  if (value === undefined) throw invalidValue(name('value'), raw, 'Please specify value as a valid double (64-bit floating point)');
  const timestamp = int64Of(item.timestamp, name('timestamp'));
  if (timestamp === undefined) throw missingValue(name('timestamp'));
  if (timestamp < 0) throw invalidValue(name('timestamp'), timestamp, 'Timestamp must be a nonnegative long (64-bit integer)');
  return {
    key,
    value,
    timestamp,
    step: int64Of(item.step, name('step')) ?? 0,
    modelId: entryText(item, 'model_id', path) || null,
    datasetName: entryText(item, 'dataset_name', path) || null,
    datasetDigest: entryText(item, 'dataset_digest', path) || null,
  };
}

export function createMetricIngest(deps: { db: Db; lookup: RunLookup; statements: MetricStatements }): MetricIngest {
  const { db, lookup, statements } = deps;

  /**
   * Inserts every point, then, in one pass over them, folds each key's points into its rollup buckets and finds its
   * latest point: one upsert per key's latest point and per bucket touched, not per point.
   */
  const writePoints = (runUuid: string, points: MetricPoint[]) => {
    statements.insertPoints(runUuid, points);
    const perKey = new Map<string, { latest: MetricPoint; buckets: Map<number, MetricBucket> }>();
    for (const point of points) {
      let metric = perKey.get(point.key);
      if (!metric) perKey.set(point.key, (metric = { latest: point, buckets: new Map() }));
      else if (isLater(point, metric.latest)) metric.latest = point;
      addToBuckets(metric.buckets, point);
    }
    for (const [key, metric] of perKey) {
      statements.upsertLatest(runUuid, metric.latest);
      statements.upsertBuckets(runUuid, key, metric.buckets.values());
    }
  };

  /**
   * Writes to a run the caller may write to, looked up in the write's own transaction: a read transaction of its own
   * would cost as much again in locking. IMMEDIATE takes the write lock first, so the read is never upgraded to a write.
   */
  const writeToRun = db.$client.transaction((caller: Caller, runId: string, write: (runUuid: string) => void) => {
    write(lookup.writable(caller.user, runId).runUuid);
  }).immediate;

  return {
    logMetric(caller, message) {
      const runId = runIdOf(message);
      const point = metricPoint(message, '', new Set());
      writeToRun(caller, runId, (runUuid) => writePoints(runUuid, [point]));
      return {};
    },

    logBatch(caller, message) {
      const runId = runIdOf(message);
      const metrics = list(message, 'metrics');
      checkBatchLimits(metrics.length, list(message, 'params').length, list(message, 'tags').length);
      const params = keyValues(message, 'params', PARAM_LIMITS);
      const tags = keyValues(message, 'tags', RUN_TAG_LIMITS);
      checkUniqueParamKeys(params);
      const knownKeys = new Set<string>();
      const points = metrics.map((raw, index) => metricPoint(entry(raw, `metrics[${index}]`), `metrics[${index}]`, knownKeys));
      writeToRun(caller, runId, (runUuid) => {
        if (params.length > 0) writeParams(db, runUuid, params, 'batch');
        if (points.length > 0) writePoints(runUuid, points);
        if (tags.length > 0) writeRunTags(db, runUuid, tags);
      });
      return {};
    },
  };
}
