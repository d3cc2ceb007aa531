import type { Tag } from './experiment-queries.ts';
import { metricValueJson } from './metric-values.ts';
import type { RunData } from './run-data-queries.ts';
import type { RunRecord } from './run-queries.ts';

/** MLflow's RunInfo, Run and Metric messages as its JSON writes them: unset fields and empty lists left out. */

export interface RunInfoJson {
  run_uuid: string;
  run_id: string;
  experiment_id: string;
  run_name: string;
  user_id: string;
  status: string;
  start_time?: number;
  end_time?: number;
  artifact_uri: string;
  lifecycle_stage: string;
}

export interface MetricJson {
  key: string;
  value: number | string;
  timestamp: number;
  step: number;
  model_id?: string;
  dataset_name?: string;
  dataset_digest?: string;
}

export interface RunJson {
  info: RunInfoJson;
  data: { metrics?: MetricJson[]; params?: Tag[]; tags?: Tag[] };
  inputs: { dataset_inputs?: unknown[] };
  outputs?: { model_outputs?: Array<{ model_id: string; step: number }> };
}

export type RunInfoFields = Pick<RunRecord, 'runUuid' | 'experimentId' | 'name' | 'userId' | 'status' | 'startTime' | 'endTime' | 'artifactUri' | 'lifecycleStage'>;

export function runInfoJson(run: RunInfoFields): RunInfoJson {
  return {
    run_uuid: run.runUuid,
    experiment_id: String(run.experimentId),
    run_name: run.name,
    user_id: run.userId,
    status: run.status,
    ...(run.startTime !== null && { start_time: run.startTime }),
    ...(run.endTime !== null && { end_time: run.endTime }),
    artifact_uri: run.artifactUri,
    lifecycle_stage: run.lifecycleStage,
    run_id: run.runUuid,
  };
}

const nonEmpty = <T>(list: T[]) => (list.length > 0 ? list : undefined);

/** `outputs` is MLflow 3's: present (possibly empty) when asked for, as its runs/get answers. */
export function runJson(run: RunInfoFields, data: RunData, withOutputs: boolean): RunJson {
  const metrics = nonEmpty(data.metrics.map(([key, value, timestamp, step]) => ({ key, value: metricValueJson(value), timestamp, step })));
  const datasets = nonEmpty(
    data.inputs.map((input) => ({
      ...(input.tags.length > 0 && { tags: input.tags }),
      dataset: {
        name: input.name,
        digest: input.digest,
        source_type: input.sourceType,
        source: input.source,
        ...(input.schema !== null && { schema: input.schema }),
        ...(input.profile !== null && { profile: input.profile }),
      },
    })),
  );
  const models = nonEmpty(data.outputs.map(({ modelId, step }) => ({ model_id: modelId, step })));
  return {
    info: runInfoJson(run),
    data: {
      ...(metrics && { metrics }),
      ...(data.params.length > 0 && { params: data.params }),
      ...(data.tags.length > 0 && { tags: data.tags }),
    },
    inputs: datasets ? { dataset_inputs: datasets } : {},
    ...(withOutputs && { outputs: models ? { model_outputs: models } : {} }),
  };
}
