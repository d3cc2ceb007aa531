/** The Docker engine cannot be reached or did not answer in time; the scheduler keeps jobs queued until it is back. */
export class RuntimeUnavailable extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RuntimeUnavailable';
  }
}

/** Docker created a container but refused to start it; the container has been removed. Carries Docker's words. */
export class ContainerStartFailed extends Error {
  readonly dockerMessage: string;

  constructor(container: string, dockerMessage: string, options?: { cause?: unknown }) {
    super(`container ${container} could not start: ${dockerMessage}`, options);
    this.name = 'ContainerStartFailed';
    this.dockerMessage = dockerMessage;
  }
}

/** What dockerode throws: transport errors carry `code`, engine answers carry `statusCode` and Docker's JSON. */
interface DockerodeError {
  message?: string;
  code?: string;
  name?: string;
  statusCode?: number;
  json?: { message?: string } | null;
}

// Errors of the connection itself, never of the request: the engine is down, gone, or not ours to reach.
const TRANSPORT_ERRORS: Record<string, string> = {
  ENOENT: 'no socket there: is dockerd running?',
  ECONNREFUSED: 'nothing accepts connections there: is dockerd running?',
  EACCES: "permission denied: is the appliance's user allowed to use the Docker socket?",
  ECONNRESET: 'the connection was dropped',
  EPIPE: 'the connection was dropped',
  ETIMEDOUT: 'the connection timed out',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable',
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name does not resolve',
};

/** The HTTP status of the engine's answer, when the error is one. */
export function dockerStatus(error: unknown): number | undefined {
  return (error as DockerodeError | undefined)?.statusCode;
}

/** Docker's own message ("No such image: x"), without dockerode's "(HTTP code 404) no such container - " prefix. */
export function dockerMessage(error: unknown): string {
  const failure = error as DockerodeError | undefined;
  const message = failure?.json?.message ?? failure?.message ?? String(error);
  return message.replace(/^\(HTTP code \d+\) [^-]*- /, '').trim();
}

function isTimeout(failure: DockerodeError): boolean {
  return failure.name === 'AbortError' || failure.name === 'TimeoutError' || failure.code === 'ABORT_ERR';
}

/**
 * A RuntimeUnavailable for an error of the connection or a timeout; undefined for an answer of the engine
 * (which the caller turns into its own error).
 */
export function unavailableError(error: unknown, what: string, engine: string, timeoutMs: number): RuntimeUnavailable | undefined {
  if (error instanceof RuntimeUnavailable) return error;
  const failure = (error ?? {}) as DockerodeError;
  if (failure.statusCode !== undefined) return undefined;
  if (isTimeout(failure)) {
    return new RuntimeUnavailable(`the Docker engine at ${engine} did not answer ${what} within ${timeoutMs / 1000} s`, { cause: error });
  }
  const reason = (failure.code && TRANSPORT_ERRORS[failure.code]) || (/socket hang up/i.test(failure.message ?? '') ? 'the connection was dropped' : undefined);
  if (reason) {
    return new RuntimeUnavailable(`the Docker engine at ${engine} is unavailable (${failure.code ?? 'ECONNRESET'}: ${reason})`, { cause: error });
  }
  return undefined;
}
