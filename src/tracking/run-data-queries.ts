import type { Db } from '../db/connection.ts';
import type { Tag } from './experiment-queries.ts';

/** What a run carries beside its info: latest metrics, params, tags, dataset inputs and model outputs. */
export interface RunData {
  /** [key, value (null for NaN), timestamp, step] */
  metrics: Array<[string, number | null, number, number]>;
  params: Tag[];
  tags: Tag[];
  inputs: Array<{ name: string; digest: string; sourceType: string; source: string; schema: string | null; profile: string | null; tags: Tag[] }>;
  outputs: Array<{ modelId: string; step: number }>;
}

export type RunDataReader = ReturnType<typeof createRunDataReader>;

const IDS = 'SELECT value FROM json_each(?)';

function prepare(db: Db) {
  const client = db.$client;
  return {
    metrics: client.prepare(`SELECT run_uuid, key, value, timestamp, step FROM latest_metrics WHERE run_uuid IN (${IDS}) ORDER BY rowid`).raw(),
    params: client.prepare(`SELECT run_uuid, key, value FROM params WHERE run_uuid IN (${IDS}) ORDER BY rowid`).raw(),
    tags: client.prepare(`SELECT run_uuid, key, value FROM run_tags WHERE run_uuid IN (${IDS}) ORDER BY rowid`).raw(),
    inputs: client
      .prepare(`SELECT run_uuid, name, digest, source_type, source, schema, profile, tags FROM run_inputs WHERE run_uuid IN (${IDS}) ORDER BY rowid`)
      .raw(),
    outputs: client.prepare(`SELECT run_uuid, model_id, step FROM run_outputs WHERE run_uuid IN (${IDS}) ORDER BY rowid`).raw(),
  };
}

/**
 * Reads the data of many runs at once, one statement per kind, each in the order things were first logged.
 * Prepared once, on first use (the app is built before its database is migrated): a search reads a page of up
 * to thousands of runs this way.
 */
export function createRunDataReader(db: Db) {
  let prepared: ReturnType<typeof prepare> | undefined;

  return function readRunData(runUuids: string[], withOutputs: boolean): Map<string, RunData> {
    const { metrics, params, tags, inputs, outputs } = (prepared ??= prepare(db));
    const byRun = new Map<string, RunData>();
    for (const uuid of runUuids) byRun.set(uuid, { metrics: [], params: [], tags: [], inputs: [], outputs: [] });
    if (runUuids.length === 0) return byRun;
    const ids = JSON.stringify(runUuids);
    for (const [uuid, key, value, timestamp, step] of metrics.all(ids) as Array<[string, string, number | null, number, number]>) {
      byRun.get(uuid)!.metrics.push([key, value, timestamp, step]);
    }
    for (const [uuid, key, value] of params.all(ids) as string[][]) byRun.get(uuid!)!.params.push({ key: key!, value: value! });
    for (const [uuid, key, value] of tags.all(ids) as string[][]) byRun.get(uuid!)!.tags.push({ key: key!, value: value! });
    for (const [uuid, name, digest, sourceType, source, schema, profile, inputTags] of inputs.all(ids) as Array<Array<string | null>>) {
      byRun.get(uuid!)!.inputs.push({
        name: name!,
        digest: digest!,
        sourceType: sourceType!,
        source: source!,
        schema: schema ?? null,
        profile: profile ?? null,
        tags: JSON.parse(inputTags!) as Tag[],
      });
    }
    if (withOutputs) {
      for (const [uuid, modelId, step] of outputs.all(ids) as Array<[string, string, number]>) byRun.get(uuid)!.outputs.push({ modelId, step });
    }
    return byRun;
  };
}
