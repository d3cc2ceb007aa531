import { CliError, EXIT } from './cli-error.ts';
import { readLogin } from './credentials-file.ts';

export const DEFAULT_URL = 'http://127.0.0.1:8700';
const REQUEST_TIMEOUT_MS = 30_000;

export interface ApiClient {
  url: string;
  call<T>(method: string, path: string, body?: unknown): Promise<T>;
}

/** The server and credential to use: TRAINYARD_URL / TRAINYARD_TOKEN first, then what `yard login` stored. */
export function clientFromEnvironment(env: NodeJS.ProcessEnv = process.env): ApiClient {
  const stored = readLogin(env);
  const token = env.TRAINYARD_TOKEN || stored?.token;
  if (!token) throw new CliError('not signed in: run `yard login URL` first (or set TRAINYARD_TOKEN)', EXIT.auth);
  return createApiClient(env.TRAINYARD_URL || stored?.url || DEFAULT_URL, `Bearer ${token}`);
}

export function createApiClient(url: string, authorization: string): ApiClient {
  const base = url.replace(/\/+$/, '');
  return {
    url: base,
    async call<T>(method: string, path: string, body?: unknown): Promise<T> {
      let response: Response;
      try {
        response = await fetch(`${base}${path}`, {
          method,
          headers: { Authorization: authorization, ...(body !== undefined && { 'Content-Type': 'application/json' }) },
          ...(body !== undefined && { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
      } catch (error) {
        const reason = (error as Error & { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
        throw new CliError(`cannot reach ${base}: ${reason}`);
      }
      const text = await response.text();
      let payload: unknown;
      try {
        payload = text ? JSON.parse(text) : {};
      } catch {
        throw new CliError(`${base} answered ${response.status} with something that is not JSON: is this a Trainyard server?`);
      }
      if (!response.ok) {
        const message = (payload as { message?: string }).message ?? `HTTP ${response.status}`;
        throw new CliError(message, response.status === 401 || response.status === 403 ? EXIT.auth : EXIT.failed);
      }
      return payload as T;
    },
  };
}
