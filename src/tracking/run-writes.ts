import type { Db } from '../db/connection.ts';
import { invalidParameterValue } from '../lib/errors.ts';
import type { Tag } from './experiment-queries.ts';
import { findParams, insertParams, updateRun, upsertRunTags } from './run-queries.ts';
import { LIMITS } from './validation.ts';

/** Writes shared by the single calls (log-parameter, set-tag) and log-batch; callers hold the transaction. */

export const RUN_NAME_TAG = 'mlflow.runName';
export const RUN_TAG_LIMITS = { what: 'Tag', valueLength: LIMITS.tagValueLength } as const;
export const PARAM_LIMITS = { what: 'Param', valueLength: LIMITS.paramValueLength } as const;

/** The run's name and its `mlflow.runName` tag are one thing: setting either sets both. */
export function writeRunTags(db: Db, runUuid: string, tags: Tag[]): void {
  upsertRunTags(db, runUuid, tags);
  const named = tags.findLast(({ key }) => key === RUN_NAME_TAG);
  if (named) updateRun(db, runUuid, { name: named.value });
}

const pythonString = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/**
 * A param is logged once: the same value again is fine, a different one is MLflow's INVALID_PARAMETER_VALUE,
 * worded as MLflow words it for a single param and for a batch.
 */
export function writeParams(db: Db, runUuid: string, values: Tag[], wording: 'single' | 'batch'): void {
  const existing = findParams(db, runUuid, values.map(({ key }) => key));
  const changed = values.filter(({ key, value }) => existing.has(key) && existing.get(key) !== value);
  if (changed.length > 0 && wording === 'single') {
    const { key, value } = changed[0]!;
    throw invalidParameterValue(
      `Changing param values is not allowed. Param with key='${key}' was already logged with value='${existing.get(key)}' for run ID='${runUuid}'. Attempted logging new value '${value}'.`,
    );
  }
  if (changed.length > 0) {
    const described = changed.map(
      ({ key, value }) => `{'key': ${pythonString(key)}, 'old_value': ${pythonString(existing.get(key)!)}, 'new_value': ${pythonString(value)}}`,
    );
    throw invalidParameterValue(`Changing param values is not allowed. Params were already logged='[${described.join(', ')}]' for run ID='${runUuid}'.`);
  }
  insertParams(db, runUuid, values.filter(({ key }) => !existing.has(key)));
}

/** MLflow refuses a batch that names the same param twice, even with the same value. */
export function checkUniqueParamKeys(values: Tag[]): void {
  const seen = new Set<string>();
  const duplicates = values.filter(({ key }) => seen.has(key) || !seen.add(key)).map(({ key }) => pythonString(key));
  if (duplicates.length > 0) {
    throw invalidParameterValue(
      `Duplicate parameter keys have been submitted: [${duplicates.join(', ')}]. Please ensure the request contains only one param value per param key.`,
    );
  }
}
