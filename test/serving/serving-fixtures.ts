import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterAll, expect } from 'vitest';
import type { App } from '../../src/app.ts';
import { servingRoutes, type ServingRouteDeps } from '../../src/server/routes/serving-routes.ts';
import type { AsyncInference } from '../../src/serving/async-inference.ts';
import { createServingMetrics, type ServingMetrics } from '../../src/serving/serving-metrics.ts';
import type { FindServingTarget, ServingTarget } from '../../src/serving/serving-target.ts';
import { createTestApp, type TestApp } from '../helpers/test-app.ts';

const closers: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

export interface Upstream {
  url: string;
  server: Server;
  /** How many requests reached it. */
  calls: number;
}

/** What the default upstream answers: the request as it arrived. */
export interface Echo {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  upstream: string;
}

/** A real node:http server; by default it answers every request with an Echo of it. Closed after the file's tests. */
export async function startUpstream(handler?: (incoming: IncomingMessage, outgoing: ServerResponse) => void): Promise<Upstream> {
  const upstream: Upstream = { url: '', server: createServer(), calls: 0 };
  upstream.server.on('request', (incoming: IncomingMessage, outgoing: ServerResponse) => {
    upstream.calls++;
    if (handler) return handler(incoming, outgoing);
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const echo: Echo = { method: incoming.method!, url: incoming.url!, headers: incoming.headers, body: Buffer.concat(chunks).toString(), upstream: upstream.url };
      outgoing.writeHead(200, { 'Content-Type': 'application/json', 'X-Upstream': upstream.url });
      outgoing.end(JSON.stringify(echo));
    });
  });
  upstream.url = await listen(upstream.server);
  closers.push(() => closeServer(upstream.server));
  return upstream;
}

/**
 * A model server streaming server-sent events as an LLM server streams tokens: a first event at once, the last only
 * once the caller read the first. `expectStreamed` reads a response from it through the proxy and fails unless
 * the first event arrived on its own, before the replica sent the last.
 */
export async function startEventStream(): Promise<Upstream & { expectStreamed(response: IncomingMessage): Promise<void> }> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const upstream = await startUpstream(async (incoming, outgoing) => {
    incoming.resume();
    outgoing.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
    outgoing.write('data: {"token":"Hello"}\n\n');
    await released;
    outgoing.end('data: [DONE]\n\n');
  });
  return Object.assign(upstream, {
    async expectStreamed(response: IncomingMessage) {
      const [first] = (await once(response, 'data')) as [Buffer];
      expect(first.toString()).toBe('data: {"token":"Hello"}\n\n');
      release();
      let rest = '';
      for await (const chunk of response) rest += chunk;
      expect(rest).toBe('data: [DONE]\n\n');
    },
  });
}

/** A base URL where nothing listens: connections to it are refused. */
export async function refusingUrl(): Promise<string> {
  const server = createServer();
  const url = await listen(server);
  await closeServer(server);
  return url;
}

export interface ServingHarness {
  t: TestApp;
  url: string;
  metrics: ServingMetrics;
  targets: Map<string, ServingTarget>;
  /**
   * A deployment in the default project, private, serving version 1, sampling nothing unless said otherwise. Sampled
   * calls are kept under `id`, which must then be a deployment's in the app's database.
   */
  deploy(name: string, upstreams: string[], options?: Partial<Omit<ServingTarget, 'name' | 'upstreams'>>): ServingTarget;
  /** A bearer token of `username`. */
  tokenOf(username: string): string;
}

/**
 * The appliance as it serves: the test app's Hono server behind @hono/node-server on a real socket, with the serving
 * routes taking /serve/ first through the server's `createServer` option. Deployments come from `targets`.
 */
export async function startServing(
  options: Partial<Pick<ServingRouteDeps, 'connectTimeoutMs' | 'responseTimeoutMs' | 'trustProxy'>> & {
    /** The queue behind /serve/<name>/async/, made over the harness's app and deployments. */
    asyncInference?: (app: App, target: FindServingTarget) => AsyncInference;
  } = {},
): Promise<ServingHarness> {
  const t = await createTestApp();
  const { app } = t;
  const metrics = createServingMetrics({ now: () => t.clock.now });
  const targets = new Map<string, ServingTarget>();
  const target: FindServingTarget = (name) => targets.get(name);
  const { asyncInference, ...timeouts } = options;
  const serving = servingRoutes({
    credentials: app.credentials,
    projects: app.projects,
    log: app.log,
    metrics,
    target,
    trustProxy: false,
    ...timeouts,
    ...(asyncInference && { asyncInference: asyncInference(app, target) }),
    samples: app.requestSamples,
  });
  const server = serve({ fetch: t.http.fetch, hostname: '127.0.0.1', port: 0, createServer: serving.createServer }) as Server;
  await new Promise((resolve) => server.once('listening', resolve));
  closers.push(async () => {
    serving.close();
    await closeServer(server);
  });
  const defaultProject = app.projects.ensureDefault();
  return {
    t,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    metrics,
    targets,
    deploy(name, upstreams, options = {}) {
      const target: ServingTarget = { id: 0, projectId: defaultProject.id, public: false, version: 1, canary: null, sampling: { rate: 0, maxBytes: 65_536 }, ...options, name, upstreams };
      targets.set(name, target);
      return target;
    },
    tokenOf: (username) => `Bearer ${app.tokens.create(app.users.get(username), { name: `token ${Math.random()}` }, { actor: 'test' }).secret}`,
  };
}

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json<T = Record<string, unknown>>(): T;
}

/** One request over a fresh connection, read to the end: node:http sends the headers exactly as given. */
export function call(url: string, init: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const sent = request(url, { method: init.method ?? 'GET', headers: init.headers, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ status: response.statusCode!, headers: response.headers, text, json: <T>() => JSON.parse(text) as T });
      });
    });
    sent.on('error', reject);
    sent.end(init.body);
  });
}
