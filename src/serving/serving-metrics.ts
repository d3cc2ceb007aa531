/** Upper bounds of the latency histogram, in milliseconds; a last `+Inf` bucket counts every call. */
export const LATENCY_BUCKETS_MS = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000] as const;
/** How many of the latest calls the percentiles are taken over. */
export const RECENT_CALLS = 1024;
/** The window of the request rate. */
export const RATE_WINDOW_S = 60;

export type StatusClass = '2xx' | '3xx' | '4xx' | '5xx';

export interface DeploymentMetrics {
  /** Every call since the appliance started. */
  requests: number;
  statusClasses: Record<StatusClass, number>;
  latency: {
    /** Cumulative, as Prometheus counts them: each bucket holds the calls that took at most `le` ms. */
    buckets: Array<{ le: number | '+Inf'; count: number }>;
    /** Over the latest RECENT_CALLS calls; null before the first. */
    p50: number | null;
    p90: number | null;
    p99: number | null;
  };
  /** Calls per second over the last RATE_WINDOW_S seconds. */
  ratePerSecond: number;
}

export interface ServingMetrics {
  /** One finished call: the status its caller got and how long it took, headers to the body's last byte. */
  record(name: string, status: number, durationMs: number): void;
  of(name: string): DeploymentMetrics;
}

interface Tally {
  requests: number;
  statusClasses: Record<StatusClass, number>;
  /** Per bucket, not yet cumulative; the last slot is the +Inf bucket. */
  bucketCounts: number[];
  recent: Float64Array;
  recentCount: number;
  /** Calls per second: `rateSeconds[i]` says which second `rateCounts[i]` belongs to. */
  rateSeconds: Float64Array;
  rateCounts: Uint32Array;
}

const newTally = (): Tally => ({
  requests: 0,
  statusClasses: { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 },
  bucketCounts: new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0),
  recent: new Float64Array(RECENT_CALLS),
  recentCount: 0,
  rateSeconds: new Float64Array(RATE_WINDOW_S).fill(-1),
  rateCounts: new Uint32Array(RATE_WINDOW_S),
});

const statusClassOf = (status: number): StatusClass | undefined =>
  status >= 200 && status < 600 ? (`${Math.floor(status / 100)}xx` as StatusClass) : undefined;

/** The value below which `fraction` of the sorted values lie (nearest rank). */
function percentile(sorted: Float64Array, fraction: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)]!;
}

/** Per deployment, in memory: counts since start, a ring of the latest latencies, and a ring of per-second counts. */
export function createServingMetrics(deps: { now: () => number }): ServingMetrics {
  const tallies = new Map<string, Tally>();

  return {
    record(name, status, durationMs) {
      let tally = tallies.get(name);
      if (!tally) tallies.set(name, (tally = newTally()));
      tally.requests++;
      const statusClass = statusClassOf(status);
      if (statusClass) tally.statusClasses[statusClass]++;
      let bucket = 0;
      while (bucket < LATENCY_BUCKETS_MS.length && durationMs > LATENCY_BUCKETS_MS[bucket]!) bucket++;
      tally.bucketCounts[bucket]!++;
      tally.recent[tally.recentCount++ % RECENT_CALLS] = durationMs;
      const second = Math.floor(deps.now() / 1000);
      const slot = second % RATE_WINDOW_S;
      if (tally.rateSeconds[slot] !== second) {
        tally.rateSeconds[slot] = second;
        tally.rateCounts[slot] = 0;
      }
      tally.rateCounts[slot]!++;
    },

    of(name) {
      const tally = tallies.get(name) ?? newTally();
      let cumulative = 0;
      const buckets = tally.bucketCounts.map((count, index) => {
        cumulative += count;
        return { le: LATENCY_BUCKETS_MS[index] ?? ('+Inf' as const), count: cumulative };
      });
      const recent = tally.recent.slice(0, Math.min(tally.recentCount, RECENT_CALLS)).sort();
      const second = Math.floor(deps.now() / 1000);
      let inWindow = 0;
      for (let slot = 0; slot < RATE_WINDOW_S; slot++) {
        if (tally.rateSeconds[slot]! > second - RATE_WINDOW_S) inWindow += tally.rateCounts[slot]!;
      }
      return {
        requests: tally.requests,
        statusClasses: { ...tally.statusClasses },
        latency: { buckets, p50: percentile(recent, 0.5), p90: percentile(recent, 0.9), p99: percentile(recent, 0.99) },
        ratePerSecond: inWindow / RATE_WINDOW_S,
      };
    },
  };
}
