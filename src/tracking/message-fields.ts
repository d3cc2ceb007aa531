import { invalidParameterValue } from '../lib/errors.ts';

/**
 * An MLflow request as a plain object: the JSON body of a POST, or the query of a GET (strings, and arrays for
 * repeated parameters). The readers below check one field each and fail with the messages MLflow's handlers give.
 */
export type Message = Record<string, unknown>;

const SEE_DOCS = ' See the API docs for more information about request parameters.';

/** Python's name for a JSON value's type, as MLflow's hints say it. */
function pythonType(value: unknown): string {
  if (value === null) return 'NoneType';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  return { string: 'str', boolean: 'bool', object: 'dict' }[typeof value as string] ?? typeof value;
}

/** A request value quoted in an error message: JSON, cut short; absurdly nested input just by its type. */
export function shown(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    return `<${pythonType(value)}>`;
  }
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}

export const missingValue = (name: string) => invalidParameterValue(`Missing value for required parameter '${name}'.${SEE_DOCS}`);

export const invalidValue = (name: string, value: unknown, detail = `Hint: Value was of type '${pythonType(value)}'.`) =>
  invalidParameterValue(`Invalid value ${shown(value)} for parameter '${name}' supplied: ${detail}${SEE_DOCS}`);

/** A string field; '' counts as missing when it is required, as protobuf cannot tell the two apart. */
export function text(message: Message, name: string): string | undefined;
export function text(message: Message, name: string, required: true): string;
export function text(message: Message, name: string, required = false): string | undefined {
  const value = message[name];
  if (value === undefined || value === null) {
    if (required) throw missingValue(name);
    return undefined;
  }
  if (typeof value !== 'string') throw invalidValue(name, value);
  if (required && value === '') throw missingValue(name);
  return value;
}

const INTEGER_TEXT = /^\s*-?\d{1,19}\s*$/;

/** An int64 value: a JSON integer, or its decimal text (protobuf's JSON form, and every GET parameter). */
export function int64Of(value: unknown, name: string): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const number = typeof value === 'string' && INTEGER_TEXT.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isSafeInteger(number)) throw invalidValue(name, value);
  return number;
}

/** An int64 field. */
export function integer(message: Message, name: string): number | undefined;
export function integer(message: Message, name: string, required: true): number;
export function integer(message: Message, name: string, required = false): number | undefined {
  const value = int64Of(message[name], name);
  if (value === undefined && required) throw missingValue(name);
  return value;
}

/** A repeated field; a GET parameter given once arrives as a single string. */
export function list(message: Message, name: string): unknown[] {
  const value = message[name];
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return [value];
  if (!Array.isArray(value)) throw invalidValue(name, value);
  return value;
}

/** A repeated string field. */
export function texts(message: Message, name: string): string[] {
  const values = list(message, name);
  for (const value of values) if (typeof value !== 'string') throw invalidValue(name, values);
  return values as string[];
}

/** The run a request names: `run_id`, or `run_uuid` that older clients (and GETs) still send. */
export function runIdOf(message: Message): string {
  return text(message, 'run_id') || text(message, 'run_uuid') || missing('run_id');
}

function missing(name: string): never {
  throw missingValue(name);
}

/** A nested object, e.g. one entry of `tags`; `path` names it in errors, as `tags[2]`. */
export function entry(value: unknown, path: string): Message {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalidValue(path, value);
  return value as Message;
}

/** Text inside a nested entry, named by its full path in errors (`tags[2].key`; just `key` when `path` is ''). */
export function entryText(item: Message, field: string, path: string, required = false): string | undefined {
  const value = item[field];
  const name = path ? `${path}.${field}` : field;
  if (value === undefined || value === null || value === '') {
    if (required) throw missingValue(name);
    return value === '' ? '' : undefined;
  }
  if (typeof value !== 'string') throw invalidValue(name, value);
  return value;
}
