import { setTimeout as sleep } from 'node:timers/promises';
import type { Log } from '../lib/log.ts';
import type { AlertRecord } from './alert-queries.ts';
import { webhookPayload, type AlertChange } from './webhook-payload.ts';

export interface WebhookTimings {
  /** One POST's limit. */
  timeoutMs: number;
  attempts: number;
  /** Before the second attempt; doubled before each one after. */
  retryDelayMs: number;
}

export const WEBHOOK_TIMINGS: WebhookTimings = { timeoutMs: 5_000, attempts: 3, retryDelayMs: 1_000 };
/** Notices waiting beyond this while the receiver is down are dropped (they stay recorded): memory stays bounded. */
const MAX_WAITING = 100;

/** Where fired and resolved alerts are told. */
export interface AlertSink {
  /** Queues the notice and returns at once; never throws. */
  send(change: AlertChange, alert: AlertRecord): void;
  /** Gives up on the notices still waiting or in flight (they stay recorded) and resolves once none is. */
  close(): Promise<void>;
}

type Failure = { problem: string; retry: boolean };

/** What went wrong, without the URL (a chat webhook's path is its secret). */
function describeFailure(error: unknown): string {
  if (error instanceof DOMException && error.name === 'TimeoutError') return 'no answer in time';
  const cause = (error as { cause?: { code?: string } }).cause;
  return cause?.code ?? (error as Error).name ?? 'failed';
}

/**
 * POSTs each notice as JSON, one at a time in the order they came (a resolve never overtakes its fire), with a
 * timeout and a few retries on network errors, 429 and 5xx. Failures are logged with the URL's origin only.
 */
export function createWebhookSink(deps: { url: string; publicUrl?: string; log: Log; timings?: Partial<WebhookTimings> }): AlertSink {
  const { url, publicUrl, log } = deps;
  const timings = { ...WEBHOOK_TIMINGS, ...deps.timings };
  const origin = new URL(url).origin;
  const closing = new AbortController();
  let tail: Promise<void> = Promise.resolve();
  let waiting = 0;

  async function post(body: string): Promise<Failure | undefined> {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body,
        signal: AbortSignal.any([AbortSignal.timeout(timings.timeoutMs), closing.signal]),
      });
      await response.body?.cancel();
      if (response.ok) return undefined;
      return { problem: `answered ${response.status}`, retry: response.status === 429 || response.status >= 500 };
    } catch (error) {
      return { problem: describeFailure(error), retry: true };
    }
  }

  async function deliver(change: AlertChange, alert: AlertRecord): Promise<void> {
    const body = JSON.stringify(webhookPayload(change, alert, publicUrl));
    for (let attempt = 1; !closing.signal.aborted; attempt++) {
      const failure = await post(body);
      if (!failure) return;
      if (!failure.retry || attempt >= timings.attempts || closing.signal.aborted) {
        log.warn({ webhook: origin, alert: alert.id, change, attempts: attempt, problem: failure.problem }, 'could not post an alert to the webhook');
        return;
      }
      await sleep(timings.retryDelayMs * 2 ** (attempt - 1), undefined, { signal: closing.signal }).catch(() => undefined);
    }
  }

  return {
    send(change, alert) {
      if (closing.signal.aborted) return;
      if (waiting >= MAX_WAITING) {
        log.warn({ webhook: origin, alert: alert.id, change }, `more than ${MAX_WAITING} alert notices wait for the webhook: this one is not sent`);
        return;
      }
      waiting++;
      tail = tail
        .then(() => deliver(change, alert))
        .catch((error: unknown) => log.warn({ webhook: origin, alert: alert.id, problem: describeFailure(error) }, 'could not post an alert to the webhook'))
        .finally(() => waiting--);
    },
    async close() {
      closing.abort();
      await tail;
    },
  };
}
