import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLog } from '../../src/lib/log.ts';
import { createContainerRuntime, type ContainerRuntime } from '../../src/runtime/container-runtime.ts';
import { createDockerClient } from '../../src/runtime/docker-client.ts';
import { RuntimeUnavailable } from '../../src/runtime/runtime-errors.ts';
import { collectLines, shellJob } from './runtime-fixtures.ts';

// No engine is needed: these tests talk to a socket that does not exist, to one that never answers, and to a
// fake engine that drops the connection in the middle of an answer.

/** Every method of the runtime, each called once. */
const calls: Array<[string, (runtime: ContainerRuntime) => Promise<unknown>]> = [
  ['start', (runtime) => runtime.start(shellJob('true'))],
  ['inspect', (runtime) => runtime.inspect('trainyard-job-1')],
  ['wait', (runtime) => runtime.wait('trainyard-job-1')],
  ['logs', (runtime) => collectLines(runtime.logs('trainyard-job-1', { follow: true }))],
  ['stop', (runtime) => runtime.stop('trainyard-job-1', 1)],
  ['remove', (runtime) => runtime.remove('trainyard-job-1')],
  ['listOwned', (runtime) => runtime.listOwned()],
  ['stats', (runtime) => runtime.stats('trainyard-job-1')],
];

function runtimeAt(socketPath: string, requestTimeoutMs = 30_000): ContainerRuntime {
  return createContainerRuntime({ docker: createDockerClient({ socketPath }), instanceId: 'test', log: createLog('silent'), requestTimeoutMs });
}

describe('a Docker socket that does not exist', () => {
  const runtime = runtimeAt('/nonexistent.sock');

  for (const [name, call] of calls) {
    it(`${name} fails at once with RuntimeUnavailable`, async () => {
      const startedAt = performance.now();
      const error = await call(runtime).then(
        () => undefined,
        (failure: unknown) => failure,
      );
      expect(error).toBeInstanceOf(RuntimeUnavailable);
      expect((error as Error).message).toBe('the Docker engine at /nonexistent.sock is unavailable (ENOENT: no socket there: is dockerd running?)');
      expect(performance.now() - startedAt).toBeLessThan(1_000);
    });
  }

  it('available() answers false', async () => {
    expect(await runtime.available()).toBe(false);
  });

  it('still refuses a request the policy does not allow before trying the engine', async () => {
    await expect(runtime.start(shellJob('true', { privileged: true }))).rejects.toMatchObject({ status: 403 });
  });
});

describe('an engine that accepts connections but never answers', () => {
  let dir: string;
  let server: Server;
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'trainyard-silent-'));
    server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(join(dir, 'docker.sock'), resolve));
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [name, call] of calls) {
    it(`${name} gives up after the request timeout with RuntimeUnavailable`, async () => {
      const runtime = runtimeAt(join(dir, 'docker.sock'), 200);
      const startedAt = performance.now();
      await expect(call(runtime)).rejects.toThrow(/did not answer .* within 0.2 s/);
      expect(performance.now() - startedAt).toBeLessThan(2_000);
    });
  }

  it('available() answers false within its timeout', async () => {
    expect(await runtimeAt(join(dir, 'docker.sock'), 200).available()).toBe(false);
  });
});

describe('an engine that goes away in the middle of a wait or a followed log', () => {
  let dir: string;
  let server: ReturnType<typeof createHttpServer>;
  const running = {
    Id: 'c0ffee',
    Name: '/trainyard-job-1',
    Config: { Image: 'x', Labels: { 'dev.trainyard.kind': 'job', 'dev.trainyard.id': '1', 'dev.trainyard.project': 'p', 'dev.trainyard.instance': 'test' } },
    State: { Status: 'running', Running: true, ExitCode: 0, StartedAt: '2026-01-01T00:00:00Z', FinishedAt: '0001-01-01T00:00:00Z', OOMKilled: false, Error: '' },
    NetworkSettings: { Ports: {} },
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'trainyard-dying-'));
    server = createHttpServer((request, response) => {
      if (request.url?.endsWith('/json')) {
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(running));
        return;
      }
      // The wait or the log stream has begun; then the engine dies.
      response.writeHead(200, { 'content-type': 'application/vnd.docker.raw-stream' });
      response.flushHeaders();
      setTimeout(() => request.socket.destroy(), 50);
    });
    await new Promise<void>((resolve) => server.listen(join(dir, 'docker.sock'), resolve));
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('wait and logs end with RuntimeUnavailable, so the caller can resume them later', async () => {
    const runtime = runtimeAt(join(dir, 'docker.sock'), 1_000);
    await expect(runtime.wait('trainyard-job-1')).rejects.toThrow(/the Docker engine at .* is unavailable \(ECONNRESET: the connection was dropped\)/);
    await expect(collectLines(runtime.logs('trainyard-job-1', { follow: true }))).rejects.toThrow(RuntimeUnavailable);
  });
});
