import { Counter, type Registry } from 'prom-client';
import { ReportedHistogram } from './reported-histogram.ts';

/** Seconds from a request's arrival until its response is ready (a streamed body's transfer is not included). */
const DURATION_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export interface HttpServerMetrics {
  /** One answered request: `route` is the matched route's pattern, never the raw path (which would grow without bound). */
  observe(method: string, route: string, status: number, seconds: number): void;
}

/** One method on one route: plain counts, as this runs on every request. */
interface Tally {
  labels: { method: string; route: string };
  /** By status class: `2xx`, `4xx`, ... */
  perStatusClass: Map<string, number>;
  /** Per bucket, not cumulative; the last slot is the +Inf bucket. */
  perBucket: number[];
  count: number;
  sum: number;
}

/** The appliance's own HTTP server: requests by method, route and status class, and their latency by method and route. */
export function createHttpServerMetrics(registry: Registry): HttpServerMetrics {
  const tallies = new Map<string, Tally>();

  new Counter({
    name: 'trainyard_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status class (2xx, 4xx, ...)',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const { labels, perStatusClass } of tallies.values()) {
        for (const [status, count] of perStatusClass) this.inc({ ...labels, status }, count);
      }
    },
  });
  new ReportedHistogram({
    name: 'trainyard_http_request_duration_seconds',
    help: 'Time to answer an HTTP request (until its response headers), by method and route pattern',
    labelNames: ['method', 'route'],
    buckets: DURATION_BUCKETS_S,
    registry,
    read: () =>
      [...tallies.values()].map(({ labels, perBucket, count, sum }) => {
        let cumulative = 0;
        return { labels, cumulative: perBucket.slice(0, -1).map((inBucket) => (cumulative += inBucket)), count, sum };
      }),
  });

  return {
    observe(method, route, status, seconds) {
      const methodLabel = KNOWN_METHODS.has(method) ? method : 'other';
      const key = `${methodLabel} ${route}`;
      let tally = tallies.get(key);
      if (!tally) {
        const perBucket = new Array<number>(DURATION_BUCKETS_S.length + 1).fill(0);
        tally = { labels: { method: methodLabel, route }, perStatusClass: new Map(), perBucket, count: 0, sum: 0 };
        tallies.set(key, tally);
      }
      const statusClass = `${Math.floor(status / 100)}xx`;
      tally.perStatusClass.set(statusClass, (tally.perStatusClass.get(statusClass) ?? 0) + 1);
      let bucket = 0;
      while (bucket < DURATION_BUCKETS_S.length && seconds > DURATION_BUCKETS_S[bucket]!) bucket++;
      tally.perBucket[bucket]!++;
      tally.count++;
      tally.sum += seconds;
    },
  };
}
