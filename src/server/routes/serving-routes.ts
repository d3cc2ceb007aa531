import { createServer as createHttpServer, type IncomingMessage, type RequestListener, type ServerOptions, type ServerResponse } from 'node:http';
import { parse as parseCookies } from 'hono/utils/cookie';
import type { Credentials, Principal } from '../../auth/credentials.ts';
import type { Projects } from '../../auth/projects.ts';
import type { DeploymentBinding } from '../../auth/tokens.ts';
import { forbidden, HttpError, invalidState, notFound } from '../../lib/errors.ts';
import type { Log } from '../../lib/log.ts';
import { safeEqual } from '../../lib/secrets.ts';
import { asyncRequestJson, asyncResultPath, readCappedBody, sendJson, sendStoredResponse } from '../../serving/async-http.ts';
import type { AsyncInference, AsyncRequestRecord } from '../../serving/async-inference.ts';
import { captureCall, type CallCapture } from '../../serving/body-capture.ts';
import type { RequestSamples } from '../../serving/request-samples.ts';
import type { ServingMetrics } from '../../serving/serving-metrics.ts';
import { createServingProxy, sendError, type ProxyCall } from '../../serving/serving-proxy.ts';
import { versionFor, type FindServingTarget, type ServingTarget } from '../../serving/serving-target.ts';
import { isSafeMethod, SESSION_COOKIE } from '../middleware/authenticate.ts';

const SERVE_PREFIX = '/serve/';
/** /serve/<name>/async/...: calls queued for later, and their results, rather than calls passed through. */
const ASYNC_PREFIX = '/async/';

export interface ServingRouteDeps {
  credentials: Credentials;
  projects: Pick<Projects, 'authorizeId'>;
  metrics: ServingMetrics;
  log: Log;
  /** The deployment a name stands for, asked on every call. */
  target: FindServingTarget;
  trustProxy: boolean;
  connectTimeoutMs?: number;
  responseTimeoutMs?: number;
  /** Takes /serve/<name>/async/...; without it, such calls go to the replicas like any other. */
  asyncInference?: Pick<AsyncInference, 'options' | 'submit' | 'find' | 'remove'>;
  /** Keeps the calls a deployment's sampleRate picks; without it, none is sampled. */
  samples?: Pick<RequestSamples, 'record'>;
}

export interface ServingRoutes {
  /**
   * node:http's createServer, with calls under /serve/ answered before Hono sees them (for @hono/node-server's
   * `createServer` option): bodies stream straight between the sockets, and a call costs no web Request or Response.
   */
  createServer: typeof createHttpServer;
  /** Closes the idle connections to replicas. */
  close(): void;
}

/** `/serve/churn/invocations?x=1` -> the deployment's name and what its replica is asked for, path and query untouched. */
function parseServePath(url: string): { name: string; path: string } | undefined {
  const rest = url.slice(SERVE_PREFIX.length);
  const end = rest.search(/[/?]/);
  const segment = end < 0 ? rest : rest.slice(0, end);
  const tail = end < 0 ? '' : rest.slice(end);
  if (segment === '') return undefined;
  try {
    return { name: decodeURIComponent(segment), path: tail.startsWith('/') ? tail : `/${tail}` };
  } catch {
    return undefined;
  }
}

const noSuchDeployment = (name: string) => notFound(`no deployment named "${name}"`);
const noSuchAsyncCall = (name: string, id: string) => notFound(`deployment "${name}" has no asynchronous call "${id}"`);
const credentialRequired = () =>
  new HttpError(401, 'UNAUTHENTICATED', 'authentication required: send a Bearer token or Basic credentials', { 'WWW-Authenticate': 'Bearer realm="trainyard"' });

export function servingRoutes(deps: ServingRouteDeps): ServingRoutes {
  const { credentials, projects, log } = deps;
  const proxy = createServingProxy({ ...deps, hiddenCookies: new Set([SESSION_COOKIE]) });

  /**
   * Who may call a deployment: anyone when it is public, else a user who may view its project. A caller who may
   * not see it learns nothing of it: an anonymous one is asked to sign in, a signed-in one is told it does not exist.
   */
  function authorizeCall(principal: Principal | undefined, target: ServingTarget | undefined, name: string, incoming: IncomingMessage): ServingTarget {
    if (!principal && !target?.public) throw credentialRequired();
    if (!target) throw noSuchDeployment(name);
    if (!principal || target.public) return target;
    if (principal.runScope !== undefined) throw forbidden(`this token is scoped to run ${principal.runScope}: it cannot call deployments`);
    projects.authorizeId(principal.user, target.projectId, 'viewer', () => noSuchDeployment(name));
    if (principal.via === 'session' && !isSafeMethod(incoming.method ?? 'GET')) checkCsrf(principal, incoming);
    return target;
  }

  const hasRole = (principal: Principal, projectId: number, role: 'viewer' | 'admin') => {
    try {
      projects.authorizeId(principal.user, projectId, role);
      return true;
    } catch (error) {
      if (error instanceof HttpError) return false;
      throw error;
    }
  };

  /**
   * A deployment's token calls the deployment holding the name it is bound to, in its project, and nothing else
   * (Tokens.createForDeployment); the rest of the checks are those of the user who made it.
   */
  function confine(scope: DeploymentBinding, name: string, target: ServingTarget | undefined): void {
    const refuse = (why: string) => forbidden(`this token is scoped to deployment "${scope.name}": ${why}`);
    if (name !== scope.name) throw refuse(`it cannot call deployment "${name}"`);
    if (target && target.projectId !== scope.projectId) throw refuse(`the deployment named "${name}" now belongs to another project`);
  }

  /**
   * A result is read or removed by whoever queued the call, while they may still call the deployment, and by the
   * admins of its project; to anyone else it does not exist.
   */
  function authorizeResult(
    principal: Principal,
    call: AsyncRequestRecord | undefined,
    target: ServingTarget | undefined,
    name: string,
    id: string,
    incoming: IncomingMessage,
  ): AsyncRequestRecord {
    const own = call?.userId === principal.user.id;
    const mayCall = own && target?.public === true && target.projectId === call?.projectId;
    const outOfScope = principal.deploymentScope !== undefined && principal.deploymentScope.projectId !== call?.projectId;
    if (!call || call.deployment !== name || outOfScope || !(mayCall || hasRole(principal, call.projectId, own ? 'viewer' : 'admin'))) throw noSuchAsyncCall(name, id);
    if (principal.via === 'session' && !isSafeMethod(incoming.method ?? 'GET')) checkCsrf(principal, incoming);
    return call;
  }

  /**
   * /serve/<name>/async/<path>: POST queues the call and answers 202 with where its result will be; GET and DELETE of
   * /serve/<name>/async/<id> read or remove it. Only a signed-in caller may, as a result belongs to someone.
   */
  async function handleAsync(
    queue: NonNullable<ServingRouteDeps['asyncInference']>,
    principal: Principal | undefined,
    target: ServingTarget | undefined,
    name: string,
    path: string,
    incoming: IncomingMessage,
    outgoing: ServerResponse,
  ): Promise<number> {
    if (!principal) throw credentialRequired();
    if (principal.runScope !== undefined) throw forbidden(`this token is scoped to run ${principal.runScope}: it cannot call deployments`);
    const method = incoming.method ?? 'GET';
    if (method === 'POST') {
      const callee = authorizeCall(principal, target, name, incoming);
      const body = await readCappedBody(incoming, queue.options.maxBodyBytes);
      const contentType = incoming.headers['content-type'] ?? null;
      const call = queue.submit({ deployment: callee.name, projectId: callee.projectId, userId: principal.user.id, method, path, contentType, body });
      const result = asyncResultPath(call);
      sendJson(outgoing, 202, { id: call.id, status: call.state, result }, { Location: result });
      return 202;
    }
    if (method !== 'GET' && method !== 'DELETE') {
      sendError(outgoing, 405, `${method} is not allowed here: POST queues a call, GET reads its result, DELETE removes it`, { Allow: 'POST, GET, DELETE' });
      return 405;
    }
    const id = path.slice(1).split('?')[0]!;
    const call = authorizeResult(principal, queue.find(id), target, name, id, incoming);
    if (method === 'GET') {
      if (call.state === 'succeeded') sendStoredResponse(outgoing, call);
      else sendJson(outgoing, 200, asyncRequestJson(call));
      return 200;
    }
    const removed = queue.remove(id);
    if (removed === 'running') throw invalidState(`the asynchronous call "${id}" is running: it can no longer be cancelled`);
    if (removed === 'missing') throw noSuchAsyncCall(name, id);
    sendJson(outgoing, 200, { id, status: call.state === 'queued' ? 'cancelled' : 'deleted' });
    return 200;
  }

  /**
   * Streams the call to a ready replica of the version that takes it (a canary takes its share). A sampled call's
   * bodies are copied as they pass, up to the deployment's cap, and kept once it is over.
   */
  function forward(target: ServingTarget, path: string, incoming: IncomingMessage, outgoing: ServerResponse): Promise<number> {
    const { version, upstreams } = versionFor(target);
    const { rate, maxBytes } = target.sampling;
    const call = { deployment: target.name, upstreams, path, incoming, outgoing };
    if (rate === 0 || !deps.samples || Math.random() >= rate) return proxy.forward(call);
    return forwardSampled(deps.samples, { ...call, capture: captureCall(maxBytes) }, target.id, version);
  }

  async function forwardSampled(samples: Pick<RequestSamples, 'record'>, call: ProxyCall & { capture: CallCapture }, deploymentId: number, version: number): Promise<number> {
    const startedAt = performance.now();
    const status = await proxy.forward(call);
    const { incoming, path, capture } = call;
    const requestContentType = incoming.headers['content-type'] ?? null;
    samples.record({ deploymentId, version, method: incoming.method ?? 'GET', path, status, latencyMs: performance.now() - startedAt, requestContentType, capture });
    return status;
  }

  /** Answers a call to /serve/<name>/...: who calls is checked, then the call streams to a ready replica. */
  async function handle(incoming: IncomingMessage, outgoing: ServerResponse): Promise<void> {
    const startedAt = performance.now();
    const method = incoming.method ?? 'GET';
    const forwardedFor = deps.trustProxy ? String(incoming.headers['x-forwarded-for'] ?? '').split(',')[0]?.trim() : undefined;
    const ip = forwardedFor || incoming.socket.remoteAddress || 'local';
    let principal: Principal | undefined;
    let status: number;
    try {
      const called = parseServePath(incoming.url ?? '');
      if (!called) throw notFound(`name a deployment: ${SERVE_PREFIX}<name>/<path>`);
      const cookie = incoming.headers.cookie;
      principal = await credentials.identify(
        { authorization: incoming.headers.authorization, sessionCookie: cookie ? parseCookies(cookie, SESSION_COOKIE)[SESSION_COOKIE] : undefined },
        { ip, userAgent: incoming.headers['user-agent'] ?? '' },
      );
      const target = deps.target(called.name);
      if (principal?.deploymentScope) confine(principal.deploymentScope, called.name, target);
      if (deps.asyncInference && called.path.startsWith(ASYNC_PREFIX)) {
        status = await handleAsync(deps.asyncInference, principal, target, called.name, called.path.slice(ASYNC_PREFIX.length - 1), incoming, outgoing);
      } else {
        status = await forward(authorizeCall(principal, target, called.name, incoming), called.path, incoming, outgoing);
      }
    } catch (error) {
      status = error instanceof HttpError ? error.status : 500;
      if (error instanceof HttpError) sendError(outgoing, error.status, error.message, error.headers);
      else {
        log.error({ err: error, method, url: incoming.url }, 'a call to a deployment failed');
        sendError(outgoing, 500, 'internal error: the details are in the server log');
      }
    }
    log[status >= 500 ? 'error' : 'info'](
      { method, path: incoming.url?.split('?')[0], status, ms: Math.round((performance.now() - startedAt) * 10) / 10, user: principal?.user.username, ip },
      'request',
    );
  }

  return {
    createServer: ((options: ServerOptions, listener: RequestListener) =>
      createHttpServer(options, (incoming, outgoing) => {
        if (incoming.url?.startsWith(SERVE_PREFIX)) void handle(incoming, outgoing);
        else listener(incoming, outgoing);
      })) as typeof createHttpServer,
    close: () => proxy.close(),
  };
}

/** A dashboard session proves a call is its own with the session's CSRF token, sent as a header (a body is the model's). */
function checkCsrf(principal: Principal, incoming: IncomingMessage): void {
  const presented = incoming.headers['x-csrf-token'];
  if (typeof presented !== 'string' || !principal.csrfToken || !safeEqual(presented, principal.csrfToken)) {
    throw forbidden('a call from a dashboard session needs its CSRF token in the X-CSRF-Token header');
  }
}
