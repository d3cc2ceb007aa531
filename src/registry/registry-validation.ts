import { invalidParameterValue } from '../lib/errors.ts';
import { missingValue } from '../tracking/message-fields.ts';
import { checkLength, checkName } from '../tracking/validation.ts';

/** MLflow's model registry input rules (mlflow/utils/validation.py), with its messages. */

export const STAGES = ['None', 'Staging', 'Production', 'Archived'] as const;
export type Stage = (typeof STAGES)[number];
/** The stages `archive_existing_versions` may archive from. */
export const ACTIVE_STAGES: readonly Stage[] = ['Staging', 'Production'];

const MAX_NAME_LENGTH = 256;
const MAX_TAG_VALUE_LENGTH = 5000;
const MAX_ALIAS_LENGTH = 255;
const MAX_DESCRIPTION_LENGTH = 65535;

export interface Tag {
  key: string;
  value: string;
}

export function requireText(value: string | undefined, field: string): string {
  if (value === undefined || value === '') throw missingValue(field);
  return value;
}

export function validateModelName(name: string | undefined, field = 'name'): string {
  return checkLength(field, MAX_NAME_LENGTH, requireText(name, field));
}

export function validateDescription(description: string | undefined): string {
  return checkLength('description', MAX_DESCRIPTION_LENGTH, description ?? '');
}

/** Versions travel as strings ("1"); anything that is not an integer is MLflow's "must be an integer". */
export function parseVersion(version: string | undefined): number {
  const text = requireText(version, 'version');
  if (!/^\s*[+-]?\d+\s*$/.test(text)) throw invalidParameterValue(`Parameter 'version' must be an integer, got '${text}'.`);
  return Number(text);
}

/** Registry tag keys follow the run tag rules (characters, no path tricks, 250 at most). */
export function validateTagKey(key: string | undefined): string {
  return checkName('Tag key', key, 'key');
}

export function validateTag(tag: { key?: string | undefined; value?: string | undefined }): Tag {
  return { key: validateTagKey(tag.key), value: checkLength('value', MAX_TAG_VALUE_LENGTH, tag.value ?? '') };
}

/** Later duplicates win, as in MLflow. */
export function validateTags(tags: Array<{ key?: string | undefined; value?: string | undefined }> | undefined): Tag[] {
  const byKey = new Map<string, Tag>();
  for (const tag of tags ?? []) {
    const valid = validateTag(tag);
    byKey.set(valid.key, valid);
  }
  return [...byKey.values()];
}

export function validateAlias(alias: string | undefined): string {
  if (alias === undefined || alias === '') throw invalidParameterValue('Registered model alias name cannot be empty.');
  if (!/^[\p{L}\p{N}_-]*$/u.test(alias)) {
    throw invalidParameterValue(`Invalid alias name: '${alias}'. Names may only contain alphanumerics, underscores (_), and dashes (-).`);
  }
  checkLength('Registered model alias name', MAX_ALIAS_LENGTH, alias);
  if (alias.toLowerCase() === 'latest') throw invalidParameterValue("'latest' alias name (case insensitive) is reserved.");
  if (/^[vV]\d+$/.test(alias)) throw invalidParameterValue(`Version alias name '${alias}' is reserved.`);
  return alias;
}

/** Stages are case-insensitive on the way in and canonical on the way out. */
export function canonicalStage(stage: string): Stage {
  const found = STAGES.find((candidate) => candidate.toLowerCase() === stage.toLowerCase());
  if (!found) throw invalidParameterValue(`Invalid Model Version stage: ${stage}. Value must be one of ${STAGES.join(', ')}.`);
  return found;
}
