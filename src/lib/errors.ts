/**
 * An error that carries the HTTP status and a stable code; the server's error handler turns it into a
 * JSON body or an error page. Anything else that escapes a handler is a bug and becomes a 500.
 */
export class HttpError extends Error {
  readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429;
  readonly code: string;
  readonly headers: Record<string, string>;

  constructor(
    status: HttpError['status'],
    code: string,
    message: string,
    headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

export const badRequest = (message: string) => new HttpError(400, 'BAD_REQUEST', message);
export const unauthorized = (message = 'authentication required') => new HttpError(401, 'UNAUTHENTICATED', message);
export const forbidden = (message = 'permission denied') => new HttpError(403, 'PERMISSION_DENIED', message);
export const notFound = (message: string) => new HttpError(404, 'NOT_FOUND', message);
export const conflict = (message: string) => new HttpError(409, 'ALREADY_EXISTS', message);
/** The thing is in a state the request cannot apply to (cancelling a job that has finished). */
export const invalidState = (message: string) => new HttpError(409, 'INVALID_STATE', message);

// The error codes of MLflow's REST API (databricks.proto), which its client branches on.
export const resourceDoesNotExist = (message: string) => new HttpError(404, 'RESOURCE_DOES_NOT_EXIST', message);
export const invalidParameterValue = (message: string) => new HttpError(400, 'INVALID_PARAMETER_VALUE', message);
export const resourceAlreadyExists = (message: string) => new HttpError(400, 'RESOURCE_ALREADY_EXISTS', message);

/** A problem with the appliance's configuration or environment, reported as one line before exiting. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** What a 404 hides stays hidden: `read`'s answer, or undefined where it finds nothing. */
export function unlessMissing<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (error) {
    if (error instanceof HttpError && error.status === 404) return undefined;
    throw error;
  }
}
