import type { Context } from 'hono';
import { z } from 'zod';
import { HttpError, badRequest } from '../lib/errors.ts';

/** The first problem of a zod error as one readable sentence, naming the field. */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid request';
  if (issue.code === 'unrecognized_keys') return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
  const field = issue.path.join('.');
  // zod 4 reports a record key that failed its schema as "Invalid key in record"; the reason is one level down.
  if (issue.code === 'invalid_key' && issue.issues[0]) return `${field}: ${issue.issues[0].message}`;
  return field ? `${field}: ${issue.message}` : issue.message;
}

export function parseWith<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new HttpError(400, 'INVALID_PARAMETER_VALUE', describeIssue(result.error));
  return result.data;
}

/** A JSON body checked against the schema; malformed JSON and wrong shapes are 400s that say what is wrong. */
export async function readJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  const type = c.req.header('Content-Type') ?? '';
  if (!type.toLowerCase().startsWith('application/json')) {
    throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
  }
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw badRequest('the body is not valid JSON');
  }
  return parseWith(schema, body);
}

/** Form fields as strings (last value wins), without the CSRF field. */
export async function readForm(c: Context): Promise<Record<string, string>> {
  const body = await c.req.parseBody();
  const fields: Record<string, string> = {};
  for (const [key, value] of Object.entries(body)) {
    if (key !== '_csrf' && typeof value === 'string') fields[key] = value;
  }
  return fields;
}
