import { clientFromEnvironment, type ApiClient } from './api-client.ts';
import { CliError, EXIT } from './cli-error.ts';
import { readLogin } from './credentials-file.ts';

export interface StreamRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: ReadableStream<Uint8Array>;
  signal?: AbortSignal;
}

/** An API client that also sends and reads bodies as streams: snapshot uploads and followed logs. */
export interface StreamingClient extends ApiClient {
  /** The answer, to read as it comes; an error answer is a CliError with the server's message. */
  open(path: string, request?: StreamRequest): Promise<Response>;
}

/** The server could not be reached: worth trying again, unlike an answer that says no. */
export class UnreachableError extends CliError {}

const reasonOf = (error: unknown) => (error as Error & { cause?: { code?: string } }).cause?.code ?? (error as Error).message;

export function streamingClientFromEnvironment(env: NodeJS.ProcessEnv = process.env): StreamingClient {
  // This one says how to sign in when nobody has.
  const client = clientFromEnvironment(env);
  const authorization = `Bearer ${env.TRAINYARD_TOKEN || readLogin(env)?.token}`;
  return {
    ...client,
    async open(path, { headers = {}, body, ...request } = {}) {
      let response: Response;
      try {
        response = await fetch(`${client.url}${path}`, {
          ...request,
          headers: { Authorization: authorization, ...headers },
          ...(body && { body, duplex: 'half' }),
        });
      } catch (error) {
        if (request.signal?.aborted) throw error;
        throw new UnreachableError(`cannot reach ${client.url}: ${reasonOf(error)}`);
      }
      if (!response.ok) {
        const payload = (await response.json().catch(() => ({}))) as { message?: string };
        throw new CliError(payload.message ?? `HTTP ${response.status}`, response.status === 401 || response.status === 403 ? EXIT.auth : EXIT.failed);
      }
      return response;
    },
  };
}
