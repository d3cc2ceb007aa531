import { Counter, type Registry } from 'prom-client';
import { LATENCY_BUCKETS_MS, type ServingMetrics, type StatusClass } from '../serving/serving-metrics.ts';
import type { Observation } from './observation.ts';
import { ReportedHistogram } from './reported-histogram.ts';

const STATUS_CLASSES: StatusClass[] = ['2xx', '3xx', '4xx', '5xx'];
const LATENCY_BUCKETS_S = LATENCY_BUCKETS_MS.map((ms) => ms / 1000);

/** Per live deployment, from the serving proxy's tallies since start: calls by status class, and the latency histogram. */
export function registerDeploymentMetrics(registry: Registry, observed: () => Observation, serving: Pick<ServingMetrics, 'of'>): void {
  new Counter({
    name: 'trainyard_serving_requests_total',
    help: 'Calls to a served model through the proxy, by deployment and status class (2xx, 4xx, ...; other: no answer)',
    labelNames: ['deployment', 'status'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const deployment of observed().deployments) {
        const { requests, statusClasses } = serving.of(deployment);
        for (const status of STATUS_CLASSES) this.inc({ deployment, status }, statusClasses[status]);
        const unanswered = requests - STATUS_CLASSES.reduce((sum, status) => sum + statusClasses[status], 0);
        if (unanswered > 0) this.inc({ deployment, status: 'other' }, unanswered);
      }
    },
  });
  // The proxy keeps no sum of latencies, so the histogram has no `_sum` series.
  new ReportedHistogram({
    name: 'trainyard_serving_request_duration_seconds',
    help: 'Time a served model took to answer through the proxy (to the last byte), by deployment',
    labelNames: ['deployment'],
    buckets: LATENCY_BUCKETS_S,
    registry,
    read: () =>
      observed().deployments.map((deployment) => {
        const { requests, latency } = serving.of(deployment);
        return { labels: { deployment }, cumulative: latency.buckets.filter((bucket) => bucket.le !== '+Inf').map((bucket) => bucket.count), count: requests };
      }),
  });
}
