import { randomSecret } from '../lib/secrets.ts';
import type { Db } from '../db/connection.ts';
import type { Log } from '../lib/log.ts';
import { sendAsyncCall, type AsyncCallResult } from './async-call.ts';
import {
  claimDueRequests,
  deleteFinishedBefore,
  deleteIdleAsyncRequest,
  deploymentsWithDueRequests,
  findAsyncRequest,
  finishAsyncRequest,
  insertAsyncRequest,
  requeueAllRunning,
  requeueAsyncRequest,
  type AsyncRequestRecord,
} from './async-request-queries.ts';
import type { FindServingTarget } from './serving-target.ts';
import { createUpstreamBalancer } from './upstream-balancer.ts';

export type { AsyncRequestRecord };

export interface AsyncInferenceOptions {
  /** The largest request body a call may carry, and the largest response a result may hold. */
  maxBodyBytes: number;
  maxResponseBytes: number;
  /** Calls in flight per ready replica of a deployment. */
  callsPerReplica: number;
  /** Attempts before a call whose replica is unreachable or answers 502/503 fails. */
  maxAttempts: number;
  /** The back-off after the first failed attempt; it doubles with each one, up to maxRetryDelayMs. */
  retryDelayMs: number;
  maxRetryDelayMs: number;
  /** One attempt, from sending to the response's last byte. */
  callTimeoutMs: number;
  /** How often the queue is looked at besides when a call is taken or ends (replicas become ready, back-offs end). */
  pollMs: number;
  /** How long a finished call's result is kept. */
  retentionMs: number;
  sweepMs: number;
}

const DEFAULT_ASYNC_OPTIONS: AsyncInferenceOptions = {
  maxBodyBytes: 10 * 2 ** 20,
  maxResponseBytes: 10 * 2 ** 20,
  callsPerReplica: 4,
  maxAttempts: 5,
  retryDelayMs: 1_000,
  maxRetryDelayMs: 30_000,
  callTimeoutMs: 10 * 60_000,
  pollMs: 1_000,
  retentionMs: 24 * 60 * 60_000,
  sweepMs: 10 * 60_000,
};

/** Answers the replica gave that say it could not take the call now: another attempt may succeed. */
const RETRIED_STATUSES = new Set([502, 503]);

export interface AsyncSubmission {
  /** The deployment's name and project, as the caller was authorized for. */
  deployment: string;
  projectId: number;
  userId: number;
  method: string;
  /** Path and query the replica gets. */
  path: string;
  contentType: string | null;
  body: Buffer;
}

export interface AsyncInference {
  readonly options: AsyncInferenceOptions;
  /** Queues a call; it goes out once the deployment has a replica free. */
  submit(submission: AsyncSubmission): AsyncRequestRecord;
  find(id: string): AsyncRequestRecord | undefined;
  /** Removes a queued call or a finished result; a running call cannot be taken back. */
  remove(id: string): 'removed' | 'running' | 'missing';
  /** Removes the results older than the retention; returns how many. */
  sweep(): number;
  /** Puts the calls a stop interrupted back in the queue and starts sending. */
  start(): Promise<void>;
  /** Stops sending; calls in flight are abandoned and queued again. */
  stop(): Promise<void>;
}

export interface AsyncInferenceDeps {
  db: Db;
  now: () => number;
  log: Log;
  target: FindServingTarget;
  options?: Partial<AsyncInferenceOptions>;
}

/**
 * Asynchronous inference without a broker: calls wait in SQLite, go out oldest first to a deployment's ready
 * replicas (at most `callsPerReplica` per replica at once), are retried with back-off while the replica cannot
 * take them, and keep their response until the retention sweep.
 */
export function createAsyncInference(deps: AsyncInferenceDeps): AsyncInference {
  const { db, now, log } = deps;
  const options = { ...DEFAULT_ASYNC_OPTIONS, ...deps.options };
  const balancer = createUpstreamBalancer();
  const inFlight = new Map<string, Map<string, Promise<void>>>();
  const timers = new Set<NodeJS.Timeout>();
  let stopping = new AbortController();
  let state: 'idle' | 'running' | 'stopped' = 'idle';
  let pumpQueued = false;

  const inFlightOf = (deployment: string) => inFlight.get(deployment)?.size ?? 0;

  function wake(ms = 0): void {
    if (state !== 'running') return;
    if (ms > 0) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        wake();
      }, ms).unref();
      timers.add(timer);
      return;
    }
    if (pumpQueued) return;
    pumpQueued = true;
    setImmediate(() => {
      pumpQueued = false;
      pump();
    });
  }

  function pump(): void {
    if (state !== 'running') return;
    const at = now();
    for (const deployment of deploymentsWithDueRequests(db, at)) {
      const target = deps.target(deployment);
      const capacity = (target?.upstreams.length ?? 0) * options.callsPerReplica - inFlightOf(deployment);
      const claimed = target ? (capacity > 0 ? claimDueRequests(db, deployment, at, capacity) : []) : claimDueRequests(db, deployment, at, Number.MAX_SAFE_INTEGER);
      for (const call of claimed) {
        if (!target || target.projectId !== call.projectId) {
          finish(call, { kind: 'failed', reason: `deployment "${deployment}" no longer exists` });
        } else {
          dispatch(call, target.upstreams);
        }
      }
    }
  }

  function dispatch(call: AsyncRequestRecord, upstreams: readonly string[]): void {
    const upstream = balancer.pick(call.deployment, upstreams, new Set())!;
    balancer.acquire(upstream);
    const calls = inFlight.get(call.deployment) ?? new Map<string, Promise<void>>();
    inFlight.set(call.deployment, calls);
    const limits = { timeoutMs: options.callTimeoutMs, maxResponseBytes: options.maxResponseBytes };
    const sent = sendAsyncCall(upstream, call, limits, stopping.signal)
      .then((result) => {
        if (state === 'running') finish(call, result);
      })
      .catch((error: unknown) => log.error({ err: error, id: call.id, deployment: call.deployment }, 'an asynchronous call could not be recorded'))
      .finally(() => {
        balancer.release(upstream);
        calls.delete(call.id);
        if (calls.size === 0) inFlight.delete(call.deployment);
        wake();
      });
    calls.set(call.id, sent);
  }

  function finish(call: AsyncRequestRecord, result: AsyncCallResult): void {
    const retried = result.kind === 'unreachable' || (result.kind === 'answered' && RETRIED_STATUSES.has(result.status));
    const reason = result.kind === 'answered' ? `the replica answered ${result.status}` : result.reason;
    if (retried && call.attempts < options.maxAttempts) {
      const delay = Math.min(options.retryDelayMs * 2 ** (call.attempts - 1), options.maxRetryDelayMs);
      requeueAsyncRequest(db, call.id, now() + delay, reason);
      log.warn({ id: call.id, deployment: call.deployment, attempt: call.attempts, reason, retryInMs: delay }, 'an asynchronous call will be tried again');
      return wake(delay);
    }
    if (result.kind === 'answered' && !retried) {
      const response = { responseStatus: result.status, responseContentType: result.contentType, responseBody: result.body };
      return finishAsyncRequest(db, call.id, { state: 'succeeded', ...response, error: null }, now());
    }
    const tries = call.attempts === 1 ? '1 attempt' : `${call.attempts} attempts`;
    const lastAnswer = result.kind === 'answered' ? result : undefined;
    finishAsyncRequest(
      db,
      call.id,
      {
        state: 'failed',
        responseStatus: lastAnswer?.status ?? null,
        responseContentType: lastAnswer?.contentType ?? null,
        responseBody: lastAnswer?.body ?? null,
        error: retried ? `${reason} (${tries})` : reason,
      },
      now(),
    );
  }

  const sweep = () => deleteFinishedBefore(db, now() - options.retentionMs);

  return {
    options,
    submit(submission) {
      const call = insertAsyncRequest(db, { id: randomSecret(18), ...submission, state: 'queued', notBefore: now(), createdAt: now() });
      wake();
      return call;
    },
    find: (id) => findAsyncRequest(db, id),
    remove(id) {
      if (deleteIdleAsyncRequest(db, id)) return 'removed';
      return findAsyncRequest(db, id) ? 'running' : 'missing';
    },
    sweep,
    async start() {
      if (state === 'running') return;
      state = 'running';
      stopping = new AbortController();
      const requeued = requeueAllRunning(db, now());
      if (requeued > 0) log.info({ calls: requeued }, 'asynchronous calls interrupted by a stop are queued again');
      const poll = setInterval(() => wake(), options.pollMs).unref();
      const sweeper = setInterval(() => {
        const removed = sweep();
        if (removed > 0) log.info({ removed }, 'removed expired asynchronous results');
      }, options.sweepMs).unref();
      timers.add(poll).add(sweeper);
      wake();
    },
    async stop() {
      if (state !== 'running') return;
      state = 'stopped';
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      stopping.abort();
      const abandoned = [...inFlight.values()].flatMap((calls) => [...calls.values()]);
      requeueAllRunning(db, now());
      await Promise.all(abandoned);
    },
  };
}
