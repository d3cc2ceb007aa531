import type { Db } from '../db/connection.ts';
import type { Log } from '../lib/log.ts';
import type { CallCapture, CapturedBody } from './body-capture.ts';
import { listRequestSamples, prepareSampleInsert, trimRequestSamples, type NewRequestSampleRecord, type RequestSampleRecord } from './request-sample-queries.ts';

export type { RequestSampleRecord };

/** How many samples of each deployment are kept. */
export const SAMPLES_KEPT = 10_000;
/** A deployment's oldest samples are trimmed once this many more arrived: one delete per batch, not one per call. */
const TRIM_EVERY = 1_000;
/** Samples wait at most this long to be written, together in one transaction... */
const FLUSH_AFTER_MS = 200;
/** ...or until this many wait. */
const FLUSH_BATCH = 64;

/** A call the proxy sampled, once it is over. */
export interface SampledCall {
  deploymentId: number;
  /** The model version that took it. */
  version: number;
  method: string;
  path: string;
  status: number;
  latencyMs: number;
  requestContentType: string | null;
  capture: CallCapture;
}

export interface RequestSamples {
  /** Keeps a sampled call; it is written shortly after, with others, off the call's path. */
  record(call: SampledCall): void;
  /** The newest `limit` samples of a deployment, newest first, those still waiting included. */
  list(deploymentId: number, limit: number): RequestSampleRecord[];
  /** Writes the samples that wait (before the database closes). */
  flush(): void;
}

export function createRequestSamples(deps: { db: Db; now: () => number; log: Log; keep?: number; trimEvery?: number }): RequestSamples {
  const { db, now, log } = deps;
  const keep = deps.keep ?? SAMPLES_KEPT;
  const trimEvery = deps.trimEvery ?? TRIM_EVERY;
  const insert = prepareSampleInsert(db);
  let waiting: NewRequestSampleRecord[] = [];
  let timer: NodeJS.Timeout | undefined;
  /** Per deployment, samples written since its last trim. */
  const sinceTrim = new Map<number, number>();

  function flush(): void {
    clearTimeout(timer);
    timer = undefined;
    if (waiting.length === 0) return;
    const batch = waiting;
    waiting = [];
    try {
      db.transaction(() => {
        insert(batch);
        for (const { deploymentId } of batch) sinceTrim.set(deploymentId, (sinceTrim.get(deploymentId) ?? 0) + 1);
        for (const [deploymentId, count] of sinceTrim) {
          if (count < trimEvery) continue;
          trimRequestSamples(db, deploymentId, keep);
          sinceTrim.delete(deploymentId);
        }
      });
    } catch (error) {
      log.error({ err: error, samples: batch.length }, 'sampled calls could not be stored');
    }
  }

  return {
    record({ capture, ...call }) {
      const request = capture.request.result();
      const response = capture.response.result();
      waiting.push({
        ...call,
        at: now(),
        requestBody: request.body,
        requestBytes: request.bytes,
        requestTruncated: request.truncated,
        responseContentType: capture.responseContentType,
        responseBody: response.body,
        responseBytes: response.bytes,
        responseTruncated: response.truncated,
      });
      if (waiting.length >= FLUSH_BATCH) flush();
      else timer ??= setTimeout(flush, FLUSH_AFTER_MS).unref();
    },
    list(deploymentId, limit) {
      flush();
      return listRequestSamples(db, deploymentId, limit);
    },
    flush,
  };
}

/** A body as JSON carries it: text when it is UTF-8 (a cut-off last character left out), base64 otherwise. */
export interface SampledBodyJson {
  contentType: string | null;
  bytes: number;
  truncated: boolean;
  encoding: 'utf8' | 'base64';
  body: string;
}

export interface RequestSampleJson {
  id: number;
  at: number;
  version: number;
  method: string;
  path: string;
  status: number;
  latencyMs: number;
  request: SampledBodyJson;
  response: SampledBodyJson;
}

function bodyJson(contentType: string | null, { body, bytes, truncated }: CapturedBody): SampledBodyJson {
  try {
    // A body cut at the cap may end inside a character: streaming leaves that tail out instead of failing.
    return { contentType, bytes, truncated, encoding: 'utf8', body: new TextDecoder('utf-8', { fatal: true }).decode(body, { stream: truncated }) };
  } catch {
    return { contentType, bytes, truncated, encoding: 'base64', body: body.toString('base64') };
  }
}

export function requestSampleJson(sample: RequestSampleRecord): RequestSampleJson {
  const { id, at, version, method, path, status, latencyMs } = sample;
  return {
    id,
    at,
    version,
    method,
    path,
    status,
    latencyMs: Math.round(latencyMs * 1000) / 1000,
    request: bodyJson(sample.requestContentType, { body: sample.requestBody, bytes: sample.requestBytes, truncated: sample.requestTruncated }),
    response: bodyJson(sample.responseContentType, { body: sample.responseBody, bytes: sample.responseBytes, truncated: sample.responseTruncated }),
  };
}
