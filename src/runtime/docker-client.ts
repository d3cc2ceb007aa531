import { createRequire } from 'node:module';
import type Dockerode from 'dockerode';

// dockerode and its dependencies are a third of the modules the server would load: load them on first use. In the
// binary's bundle `require` is the bundler's, which has dockerode inside; from source it is made for this file.
const loadDockerode = (): typeof Dockerode =>
  typeof require === 'function' ? require('dockerode') : createRequire(import.meta.url)('dockerode');

/** Debian bookworm's engine (20.10) speaks API 1.41; pin it so a newer client never asks for more. */
export const DOCKER_API_VERSION = 'v1.41';

const DEFAULT_SOCKET = '/var/run/docker.sock';

export interface DockerClientOptions {
  /** Unix socket of the engine; defaults to DOCKER_HOST (unix://...) or /var/run/docker.sock. */
  socketPath?: string;
}

/** A dockerode client for the local engine, pinned to API 1.41. */
export function createDockerClient(options: DockerClientOptions = {}): Dockerode {
  const dockerHost = process.env.DOCKER_HOST ?? '';
  if (options.socketPath !== undefined) {
    // host: undefined stops a tcp:// DOCKER_HOST (read by docker-modem itself) from taking precedence.
    return new (loadDockerode())({ socketPath: options.socketPath, host: undefined, version: DOCKER_API_VERSION });
  }
  if (dockerHost.startsWith('unix://')) {
    const socketPath = dockerHost.slice('unix://'.length) || DEFAULT_SOCKET;
    return new (loadDockerode())({ socketPath, version: DOCKER_API_VERSION });
  }
  if (dockerHost !== '') {
    // tcp:// or ssh://: docker-modem parses DOCKER_HOST (and DOCKER_TLS_VERIFY, DOCKER_CERT_PATH) itself.
    return new (loadDockerode())({ version: DOCKER_API_VERSION });
  }
  return new (loadDockerode())({ socketPath: DEFAULT_SOCKET, version: DOCKER_API_VERSION });
}

// dockerode's ping accepts { abortSignal } at run time; @types/dockerode only declares ping().
type PingWithSignal = (this: Dockerode, options: { abortSignal: AbortSignal }) => Promise<unknown>;

/** True when the engine answers `/_ping` within `timeoutMs`; never throws and never hangs. */
export async function dockerAvailable(docker: Dockerode, timeoutMs = 2_000): Promise<boolean> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve(false);
    }, timeoutMs);
    timer.unref();
  });
  const ping = docker.ping as unknown as PingWithSignal;
  const answered = ping
    .call(docker, { abortSignal: controller.signal })
    .then(() => true)
    .catch(() => false);
  try {
    return await Promise.race([answered, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
