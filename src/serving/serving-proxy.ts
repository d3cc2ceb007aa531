import { Agent, request, type ClientRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Log } from '../lib/log.ts';
import type { CallCapture } from './body-capture.ts';
import { callerResponseHeaders, hasBody, upstreamRequestHeaders, type ForwardingPolicy } from './proxy-headers.ts';
import type { ServingMetrics } from './serving-metrics.ts';
import { createUpstreamBalancer } from './upstream-balancer.ts';

const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
const DEFAULT_RESPONSE_TIMEOUT_MS = 60_000;
/**
 * A kept-alive connection to a replica idle this long is closed by the proxy, before the model server closes it under
 * a call that reuses it (gunicorn closes idle connections after 2 s, uvicorn and Node after 5 s).
 */
const IDLE_CONNECTION_MS = 1_000;
/** What a call whose caller hung up before any answer counts as (nginx's convention). */
const CALLER_GONE = 499;

export interface ProxyCall {
  deployment: string;
  /** Base URLs of the deployment's ready replicas. */
  upstreams: readonly string[];
  /** Path and query after /serve/<name>, as the caller sent them: `/invocations?format=json`. */
  path: string;
  incoming: IncomingMessage;
  outgoing: ServerResponse;
  /** A sampled call: both bodies are copied here (up to its cap) as they stream through. */
  capture?: CallCapture;
}

export interface ServingProxy {
  /**
   * Sends the call to the least busy ready replica and streams both bodies through as they come. Resolves once the
   * call is over with the status it is counted under: the replica's, the proxy's own 502/503/504, or CALLER_GONE.
   */
  forward(call: ProxyCall): Promise<number>;
  /** Closes the idle connections to the replicas. */
  close(): void;
}

export interface ServingProxyOptions extends ForwardingPolicy {
  metrics: ServingMetrics;
  log: Log;
  /** To open a connection to a replica. */
  connectTimeoutMs?: number;
  /** From the request's last byte to the response's headers; the response body then streams as long as it takes. */
  responseTimeoutMs?: number;
}

/** Answers `{"error": message}`, unless the caller is gone or already has its headers. */
export function sendError(outgoing: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  if (outgoing.headersSent || outgoing.destroyed) return;
  const body = JSON.stringify({ error: message });
  outgoing.writeHead(status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  outgoing.end(body);
}

class UpstreamTimeout extends Error {
  readonly phase: 'connect' | 'response';

  constructor(phase: 'connect' | 'response') {
    super(`${phase} timeout`);
    this.phase = phase;
  }
}

/** Failures before the replica saw anything of the call: another replica may take it. */
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN']);

function describeFailure(error: NodeJS.ErrnoException, timeouts: { connect: number; response: number }): { status: 502 | 504; reason: string } {
  if (error instanceof UpstreamTimeout) {
    return error.phase === 'connect'
      ? { status: 504, reason: `could not connect to a replica within ${timeouts.connect / 1000} s` }
      : { status: 504, reason: `the replica did not answer within ${timeouts.response / 1000} s` };
  }
  if (error.code === 'ECONNREFUSED') return { status: 502, reason: 'the replica refused the connection' };
  if (error.code === 'ECONNRESET' || error.code === 'EPIPE') return { status: 502, reason: 'the replica closed the connection before answering' };
  if (error.code?.startsWith('HPE_')) return { status: 502, reason: 'the replica sent a malformed response' };
  if (error.code && CONNECT_ERRORS.has(error.code)) return { status: 502, reason: 'the replica cannot be reached' };
  return { status: 502, reason: `the replica failed (${error.code ?? error.message})` };
}

/**
 * Whether the replica cannot have seen the call, so that trying again cannot run it twice: it never connected (try
 * another replica), or it had closed the kept-alive connection just as the call reused it (a fresh one will do).
 */
function retryAfter(error: NodeJS.ErrnoException, reusedSocket: boolean): 'another-replica' | 'fresh-connection' | undefined {
  if (error instanceof UpstreamTimeout) return error.phase === 'connect' ? 'another-replica' : undefined;
  if (CONNECT_ERRORS.has(error.code ?? '')) return 'another-replica';
  return reusedSocket && error.code === 'ECONNRESET' ? 'fresh-connection' : undefined;
}

/** Where to send calls for a replica's base URL; undefined for one the proxy cannot speak to. */
function upstreamAddress(base: string): { host: string; port: number; authority: string; prefix: string } | undefined {
  const url = URL.parse(base);
  if (url?.protocol !== 'http:') return undefined;
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 80), authority: url.host, prefix: url.pathname.replace(/\/$/, '') };
}

export function createServingProxy(options: ServingProxyOptions): ServingProxy {
  const { metrics, log } = options;
  const timeouts = { connect: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, response: options.responseTimeoutMs ?? DEFAULT_RESPONSE_TIMEOUT_MS };
  const agent = new Agent({ keepAlive: true, scheduling: 'lifo', timeout: IDLE_CONNECTION_MS });
  const balancer = createUpstreamBalancer();

  function forward(call: ProxyCall, done: (status: number) => void): void {
    const { deployment, incoming, outgoing } = call;
    const startedAt = performance.now();
    const tried = new Set<string>();
    const withBody = hasBody(incoming);
    let upstreamRequest: ClientRequest | undefined;
    let holding: string | undefined;
    let brokeMidway = false;
    let staleRetried = false;

    const release = () => {
      if (holding !== undefined) balancer.release(holding);
      holding = undefined;
    };

    outgoing.once('close', () => {
      release();
      if (!outgoing.writableFinished) upstreamRequest?.destroy();
      const status = brokeMidway ? 502 : outgoing.headersSent ? outgoing.statusCode : CALLER_GONE;
      metrics.record(deployment, status, performance.now() - startedAt);
      done(status);
    });

    const relay = (response: IncomingMessage) => {
      if (outgoing.destroyed) return response.destroy();
      try {
        const headers = callerResponseHeaders(response);
        if (response.statusMessage) outgoing.writeHead(response.statusCode!, response.statusMessage, headers);
        else outgoing.writeHead(response.statusCode!, headers);
      } catch (error) {
        log.warn({ deployment, err: error }, 'a replica sent a response that cannot be passed on');
        response.destroy();
        return sendError(outgoing, 502, `deployment "${deployment}": the replica sent a response that cannot be passed on`);
      }
      response.once('close', () => {
        if (response.complete || outgoing.writableFinished) return;
        brokeMidway = true;
        outgoing.destroy();
      });
      if (call.capture) {
        call.capture.responseContentType = response.headers['content-type'] ?? null;
        response.on('data', call.capture.response.add);
      }
      response.pipe(outgoing);
    };

    const attempt = () => {
      const upstream = balancer.pick(deployment, call.upstreams, tried);
      if (upstream === undefined) return sendError(outgoing, 503, `deployment "${deployment}" has no ready replica`);
      const address = upstreamAddress(upstream);
      if (!address) return sendError(outgoing, 502, `deployment "${deployment}" has a replica at an address the proxy cannot use: ${upstream}`);
      tried.add(upstream);
      balancer.acquire(upstream);
      holding = upstream;

      const sent = request({
        agent,
        host: address.host,
        port: address.port,
        method: incoming.method,
        path: address.prefix + call.path,
        headers: upstreamRequestHeaders(incoming, address.authority, options),
      });
      upstreamRequest = sent;
      let bodyStarted = false;
      let connectTimer: NodeJS.Timeout | undefined;
      let responseTimer: NodeJS.Timeout | undefined;
      const startBody = () => {
        bodyStarted = true;
        if (call.capture) incoming.on('data', call.capture.request.add);
        incoming.pipe(sent);
      };
      // A body is read only once connected: until then, another replica can still take the call.
      if (!withBody) sent.end();
      sent.once('socket', (socket) => {
        if (!socket.connecting) {
          if (withBody) startBody();
          return;
        }
        connectTimer = setTimeout(() => sent.destroy(new UpstreamTimeout('connect')), timeouts.connect);
        socket.once('connect', () => {
          clearTimeout(connectTimer);
          if (withBody) startBody();
        });
      });
      sent.once('finish', () => {
        responseTimer = setTimeout(() => sent.destroy(new UpstreamTimeout('response')), timeouts.response);
      });
      sent.once('response', (response) => {
        clearTimeout(connectTimer);
        clearTimeout(responseTimer);
        relay(response);
      });
      let failed = false;
      sent.on('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(connectTimer);
        clearTimeout(responseTimer);
        if (failed) return;
        failed = true;
        if (outgoing.headersSent || outgoing.destroyed) {
          if (!outgoing.writableFinished) outgoing.destroy();
          return;
        }
        release();
        const failure = describeFailure(error, timeouts);
        log.warn({ deployment, upstream, code: error.code, reason: failure.reason }, 'a replica failed a call');
        const retry = bodyStarted ? undefined : retryAfter(error, sent.reusedSocket);
        if (retry === 'fresh-connection' && !staleRetried) {
          staleRetried = true;
          tried.delete(upstream);
        }
        if (retry && call.upstreams.some((other) => !tried.has(other))) return attempt();
        sendError(outgoing, failure.status, `deployment "${deployment}": ${failure.reason}`);
      });
    };

    if (outgoing.destroyed) return done(CALLER_GONE);
    attempt();
  }

  return {
    forward: (call) => new Promise((resolve) => forward(call, resolve)),
    close: () => agent.destroy(),
  };
}
