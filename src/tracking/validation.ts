import { invalidParameterValue } from '../lib/errors.ts';
import { entry, entryText, list, missingValue, type Message } from './message-fields.ts';

/** MLflow's limits (mlflow/utils/validation.py); the Python client checks the same before it sends. */
export const LIMITS = {
  metricsPerBatch: 1000,
  paramsOrTagsPerBatch: 100,
  entitiesPerBatch: 1000,
  keyLength: 250,
  paramValueLength: 6000,
  tagValueLength: 8000,
  experimentNameLength: 500,
  experimentTagValueLength: 5000,
  datasetNameLength: 500,
  datasetDigestLength: 36,
  datasetSourceLength: 65535,
  datasetSchemaLength: 1048575,
  datasetProfileLength: 16777215,
  inputTagKeyLength: 255,
  inputTagValueLength: 500,
} as const;

const NAME_CHARACTERS = /^[/\p{L}\p{N}_.\- :]*$/u;
const BAD_CHARACTERS = 'Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).';

/** Python's posixpath.normpath, which MLflow uses to refuse names that would alias another as a file path. */
function normpath(path: string): string {
  if (path === '') return '.';
  const absolute = path.startsWith('/');
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part !== '..' || (!absolute && (parts.length === 0 || parts.at(-1) === '..'))) parts.push(part);
    else if (parts.length > 0) parts.pop();
  }
  const joined = parts.join('/');
  return absolute ? `/${joined}` : joined || '.';
}

function aliasesAnotherName(name: string): boolean {
  if (!name.includes('.') && !name.includes('/')) return false;
  const norm = normpath(name);
  return norm !== name || norm === '.' || norm.startsWith('..') || norm.startsWith('/');
}

const badValue = (path: string, value: unknown, detail: string) =>
  invalidParameterValue(`Invalid value ${JSON.stringify(value)} for parameter '${path}' supplied: ${detail}`);

/** A metric, param or tag name: present, of allowed characters, not a file path in disguise, at most 250 long. */
export function checkName(what: 'Metric name' | 'Param key' | 'Tag key', name: string | undefined, path: string): string {
  if (name === undefined || name === '') throw missingValue(path);
  if (!NAME_CHARACTERS.test(name)) throw badValue(path, name, BAD_CHARACTERS);
  if (aliasesAnotherName(name)) {
    throw badValue(
      path,
      name,
      `Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '${normpath(name)}'`,
    );
  }
  return checkLength(what, LIMITS.keyLength, name);
}

export function checkLength(what: string, limit: number, value: string): string {
  if (value.length > limit) throw invalidParameterValue(`'${what}' exceeds the maximum length of ${limit} characters`);
  return value;
}

export function checkBatchLimits(metrics: number, params: number, tags: number): void {
  const check = (what: string, limit: number, count: number) => {
    if (count > limit) {
      throw invalidParameterValue(
        `A batch logging request can contain at most ${limit} ${what}. Got ${count} ${what}. Please split up ${what} across multiple requests and try again.`,
      );
    }
  };
  check('metrics', LIMITS.metricsPerBatch, metrics);
  check('params', LIMITS.paramsOrTagsPerBatch, params);
  check('tags', LIMITS.paramsOrTagsPerBatch, tags);
  check('metrics, params, and tags', LIMITS.entitiesPerBatch, metrics + params + tags);
}

export interface KeyValue {
  key: string;
  value: string;
}

/** A run tag or param list (`tags`, `params`) checked entry by entry; a missing value is ''. */
export function keyValues(message: Message, field: 'tags' | 'params', limits: { what: 'Tag' | 'Param'; valueLength: number }): KeyValue[] {
  return list(message, field).map((raw, index) => {
    const path = `${field}[${index}]`;
    const item = entry(raw, path);
    const key = checkName(`${limits.what} key`, entryText(item, 'key', path, true), `${path}.key`);
    const value = checkLength(`${limits.what} value`, limits.valueLength, entryText(item, 'value', path) ?? '');
    return { key, value };
  });
}
