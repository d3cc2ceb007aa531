import type { Caller, Message } from '../../tracking/tracking.ts';
import { HttpError, invalidParameterValue } from '../../lib/errors.ts';
import { principalOf, type AppContext } from '../context.ts';

/**
 * An MLflow request as the message its handler reads, as MLflow's server reads it: a GET's query (a parameter
 * given more than once as a list), a POST's JSON body ({} when empty; older clients double-encode it as a string).
 */
export async function messageOf(c: AppContext): Promise<Message> {
  if (c.req.method === 'GET') {
    const query: Message = {};
    for (const [name, values] of Object.entries(c.req.queries())) query[name] = values.length === 1 ? values[0] : values;
    return query;
  }
  const body = await c.req.text();
  if (body.trim() === '') return {};
  if (!(c.req.header('Content-Type') ?? '').toLowerCase().startsWith('application/json')) {
    throw new HttpError(415, 'BAD_REQUEST', "Bad Request. Content-Type must be one of ['application/json'].");
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
    if (typeof parsed === 'string') parsed = JSON.parse(parsed);
  } catch {
    throw invalidParameterValue('the body is not valid JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalidParameterValue('the body must be a JSON object');
  return parsed as Message;
}

export function callerOf(c: AppContext): Caller {
  return { user: principalOf(c).user, ip: c.get('clientIp') };
}

/** A route body: the handler's answer to the caller's message, as JSON. */
export function mlflowHandler(handle: (caller: Caller, message: Message, c: AppContext) => unknown) {
  return async (c: AppContext) => c.json(handle(callerOf(c), await messageOf(c), c) as object);
}
