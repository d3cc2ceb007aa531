import type { Context, ErrorHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { ZodError } from 'zod';
import { HttpError } from '../../lib/errors.ts';
import type { Log } from '../../lib/log.ts';
import { errorPage } from '../../../web/views/error-page.ts';
import { flash, type AssetUrls } from '../../../web/views/layout.ts';
import { isHtmx, wantsJson } from '../context.ts';
import { describeIssue } from '../request-body.ts';

type Failure = { status: number; code: string; message: string; headers: Record<string, string> };

function classify(error: unknown): Failure | undefined {
  if (error instanceof HttpError) return error;
  if (error instanceof ZodError) return { status: 400, code: 'INVALID_PARAMETER_VALUE', message: describeIssue(error), headers: {} };
  if (error instanceof HTTPException && error.status < 500) {
    return { status: error.status, code: 'BAD_REQUEST', message: error.message || 'bad request', headers: {} };
  }
  return undefined;
}

/**
 * One shape per audience: `{error_code, message}` for API clients (MLflow's shape), a flash message swapped
 * into the page for htmx, an error page for a browser. Anything unexpected is logged and becomes a 500.
 */
export function renderError(c: Context, failure: Failure, assets: AssetUrls): Response | Promise<Response> {
  for (const [name, value] of Object.entries(failure.headers)) c.header(name, value);
  const status = failure.status as 400;
  if (wantsJson(c)) return c.json({ error_code: failure.code, message: failure.message }, status);
  if (isHtmx(c)) {
    c.header('HX-Retarget', '#flash');
    c.header('HX-Reswap', 'innerHTML');
    return c.html(flash('error', failure.message), status);
  }
  return c.html(errorPage({ assets, status, message: failure.message }), status);
}

export function errorHandler(log: Log, assets: AssetUrls): ErrorHandler {
  return (error, c) => {
    const failure = classify(error);
    if (failure) return renderError(c, failure, assets);
    log.error({ err: error, method: c.req.method, path: c.req.path }, 'request failed');
    return renderError(c, { status: 500, code: 'INTERNAL_ERROR', message: 'internal error: the details are in the server log', headers: {} }, assets);
  };
}

export function notFoundHandler(assets: AssetUrls) {
  return (c: Context) =>
    renderError(c, { status: 404, code: 'ENDPOINT_NOT_FOUND', message: `no such page or endpoint: ${c.req.method} ${c.req.path}`, headers: {} }, assets);
}
