import { describe, expect, it } from 'vitest';
import { createServingMetrics, LATENCY_BUCKETS_MS, RECENT_CALLS } from '../../src/serving/serving-metrics.ts';

function metricsAt(start = Date.UTC(2026, 0, 1)) {
  const clock = { now: start };
  return { clock, metrics: createServingMetrics({ now: () => clock.now }) };
}

describe('serving metrics', () => {
  it('knows nothing of a deployment that had no calls', () => {
    const { metrics } = metricsAt();
    const none = metrics.of('churn');
    expect(none).toMatchObject({ requests: 0, statusClasses: { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 }, ratePerSecond: 0 });
    expect(none.latency).toMatchObject({ p50: null, p90: null, p99: null });
    expect(none.latency.buckets).toHaveLength(LATENCY_BUCKETS_MS.length + 1);
    expect(none.latency.buckets.every((bucket) => bucket.count === 0)).toBe(true);
  });

  it('counts calls by status class, per deployment', () => {
    const { metrics } = metricsAt();
    for (const status of [200, 201, 204, 304, 404, 499, 502, 503, 504]) metrics.record('churn', status, 1);
    metrics.record('llm', 200, 1);
    expect(metrics.of('churn')).toMatchObject({ requests: 9, statusClasses: { '2xx': 3, '3xx': 1, '4xx': 2, '5xx': 3 } });
    expect(metrics.of('llm').requests).toBe(1);
  });

  it('keeps a cumulative histogram, each bucket counting the calls at or below its bound', () => {
    const { metrics } = metricsAt();
    for (const ms of [0.2, 1, 1.5, 40, 50, 70_000]) metrics.record('churn', 200, ms);
    const count = (le: number | '+Inf') => metrics.of('churn').latency.buckets.find((bucket) => bucket.le === le)?.count;
    expect([count(1), count(2.5), count(25), count(50), count(100), count(60_000), count('+Inf')]).toEqual([2, 3, 3, 5, 5, 5, 6]);
  });

  it('takes percentiles over the latest calls only', () => {
    const { metrics } = metricsAt();
    for (let index = 1; index <= 100; index++) metrics.record('churn', 200, index);
    expect(metrics.of('churn').latency).toMatchObject({ p50: 50, p90: 90, p99: 99 });
    for (let index = 0; index < RECENT_CALLS; index++) metrics.record('churn', 200, 7);
    expect(metrics.of('churn').latency).toMatchObject({ p50: 7, p90: 7, p99: 7 });
    expect(metrics.of('churn').requests).toBe(100 + RECENT_CALLS);
  });

  it('gives the request rate over the last minute', () => {
    const { clock, metrics } = metricsAt();
    for (let second = 0; second < 90; second++) {
      for (let call = 0; call < (second < 30 ? 1 : 3); call++) metrics.record('churn', 200, 1);
      if (second < 89) clock.now += 1000;
    }
    expect(metrics.of('churn').ratePerSecond).toBe(3);
    clock.now += 30_000;
    expect(metrics.of('churn').ratePerSecond).toBe(1.5);
    clock.now += 60_000;
    expect(metrics.of('churn').ratePerSecond).toBe(0);
  });
});
