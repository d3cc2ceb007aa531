import { invalidParameterValue } from '../lib/errors.ts';
import type { Caller } from './access.ts';
import { integer, missingValue, runIdOf, text, texts, type Message } from './message-fields.ts';
import type { MetricStatements } from './metric-queries.ts';
import { metricValueJson } from './metric-values.ts';
import { createPageToken, parsePageToken } from '../lib/page-token.ts';
import type { MetricJson } from './run-json.ts';
import type { RunLookup } from './run-lookup.ts';

export interface MetricHistory {
  /**
   * Every point of one metric of a run, in step order, paged when `max_results` is given: the JSON text of
   * `{metrics, next_page_token}`, written by the database (a history can be a million points).
   */
  history(caller: Caller, message: Message): string;
  /** One metric of up to 100 runs, every point (capped at `max_results` in all), as MLflow's older charts ask. */
  bulk(caller: Caller, message: Message): { metrics: Array<MetricJson & { run_id: string }> };
  /** One metric of up to 100 runs, sampled to at most `max_results` steps as MLflow's charts ask. */
  bulkInterval(caller: Caller, message: Message): { metrics?: Array<MetricJson & { run_id: string }> };
}

const MAX_RUNS_PER_BULK = 100;
const MAX_RESULTS_PER_RUN = 2500;
const MAX_POINTS_PER_RUN = 25000;
const MAX_BULK_POINTS = 25000;

/**
 * MLflow's step sampling: `maxResults` evenly spaced steps of those logged within [start, end], the last one
 * always kept; every run's first and last step in range are added so each line reaches its ends.
 */
export function sampleSteps(stepsPerRun: number[][], start: number | undefined, end: number | undefined, maxResults: number): number[] {
  const allSteps = [...new Set(stepsPerRun.flat())].sort((a, b) => a - b);
  const from = start ?? 0;
  const to = end ?? allSteps.at(-1) ?? 0;
  const inRange = allSteps.filter((step) => step >= from && step <= to);
  const sampled = new Set<number>();
  if (inRange.length <= maxResults) inRange.forEach((step) => sampled.add(step));
  else {
    const interval = inRange.length / maxResults;
    for (let index = 0; index < maxResults; index++) sampled.add(inRange[Math.floor(index * interval)]!);
    sampled.add(inRange.at(-1)!);
  }
  for (const steps of stepsPerRun) {
    // Each run's steps come sorted from the database.
    for (const edge of [steps[0], steps.at(-1)]) if (edge !== undefined && edge >= from && edge <= to) sampled.add(edge);
  }
  return [...sampled].sort((a, b) => a - b);
}

export function createMetricHistory(deps: { lookup: RunLookup; statements: MetricStatements }): MetricHistory {
  const { lookup, statements } = deps;

  return {
    history(caller, message) {
      const run = lookup.find(caller.user, runIdOf(message), 'viewer');
      const key = text(message, 'metric_key', true);
      const maxResults = integer(message, 'max_results');
      if (maxResults !== undefined && maxResults < 1) throw invalidParameterValue(`Invalid value ${maxResults} for parameter 'max_results' supplied: it must be at least 1`);
      const offset = parsePageToken(text(message, 'page_token'));
      const points = statements.historyJson(run.runUuid, key, maxResults ?? -1, offset);
      const more = maxResults !== undefined && statements.hasPointAt(run.runUuid, key, offset + maxResults);
      const fields = [...(points && [`"metrics":[${points}]`]), ...(more ? [`"next_page_token":${JSON.stringify(createPageToken(offset + maxResults!))}`] : [])];
      return `{${fields.join(',')}}`;
    },

    bulk(caller, message) {
      const runIds = texts(message, 'run_id');
      if (runIds.length === 0) throw invalidParameterValue('GetMetricHistoryBulk request must specify at least one run_id.');
      if (runIds.length > MAX_RUNS_PER_BULK) {
        throw invalidParameterValue(
          `GetMetricHistoryBulk request cannot specify more than ${MAX_RUNS_PER_BULK} run_ids. Received ${runIds.length} run_ids.`,
        );
      }
      const key = text(message, 'metric_key');
      if (key === undefined) throw invalidParameterValue('GetMetricHistoryBulk request must specify a metric_key.');
      const maxResults = Math.min(integer(message, 'max_results') ?? MAX_BULK_POINTS, MAX_BULK_POINTS);
      if (maxResults < 1) throw invalidParameterValue(`Invalid value ${maxResults} for parameter 'max_results' supplied: it must be at least 1`);
      // MLflow answers runs in id order, each run's points by time, then step, then value.
      const runs = [...new Set(runIds)].sort().map((runId) => lookup.find(caller.user, runId, 'viewer'));
      const metrics = runs.flatMap((run) =>
        statements
          .atSteps(run.runUuid, key, statements.steps(run.runUuid, key), maxResults)
          .sort(([valueA, timeA, stepA], [valueB, timeB, stepB]) => timeA - timeB || stepA - stepB || (valueA ?? 0) - (valueB ?? 0))
          .map(([value, timestamp, step]) => ({ key, value: metricValueJson(value), timestamp, step, run_id: run.runUuid })),
      );
      return { metrics: metrics.slice(0, maxResults) };
    },

    bulkInterval(caller, message) {
      const runIds = texts(message, 'run_ids');
      if (runIds.length === 0) throw missingValue('run_ids');
      if (runIds.length > MAX_RUNS_PER_BULK) {
        throw invalidParameterValue(
          `GetMetricHistoryBulkInterval request must specify at most ${MAX_RUNS_PER_BULK} run_ids. Received ${runIds.length} run_ids.`,
        );
      }
      const key = text(message, 'metric_key', true);
      const maxResults = integer(message, 'max_results') ?? MAX_RESULTS_PER_RUN;
      if (maxResults < 1 || maxResults > MAX_RESULTS_PER_RUN) throw invalidParameterValue(`max_results must be between 1 and ${MAX_RESULTS_PER_RUN}.`);
      const start = integer(message, 'start_step');
      const end = integer(message, 'end_step');
      if ((start === undefined) !== (end === undefined)) {
        throw invalidParameterValue('If either start step or end step are specified, both must be specified.');
      }
      if (start !== undefined && end !== undefined && start > end) {
        throw invalidParameterValue(`end_step must be greater than start_step. Found start_step=${start} and end_step=${end}.`);
      }
      const runs = runIds.map((runId) => lookup.find(caller.user, runId, 'viewer'));
      const steps = sampleSteps(
        runs.map((run) => statements.steps(run.runUuid, key)),
        start,
        end,
        maxResults,
      );
      const metrics = runs.flatMap((run) =>
        statements.atSteps(run.runUuid, key, steps, MAX_POINTS_PER_RUN).map(([value, timestamp, step]) => ({
          key,
          value: metricValueJson(value),
          timestamp,
          step,
          run_id: run.runUuid,
        })),
      );
      return metrics.length > 0 ? { metrics } : {};
    },
  };
}
