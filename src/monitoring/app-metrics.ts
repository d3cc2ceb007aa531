import { collectDefaultMetrics, Registry } from 'prom-client';
import type { GpuInventory } from '../gpu/gpu-inventory.ts';
import type { Jobs } from '../scheduler/jobs.ts';
import type { Deployments } from '../serving/deployments.ts';
import type { ServingMetrics } from '../serving/serving-metrics.ts';
import { registerDeploymentMetrics } from './deployment-metrics.ts';
import { registerGpuGauges } from './gpu-gauges.ts';
import { createHttpServerMetrics, type HttpServerMetrics } from './http-server-metrics.ts';
import { ACTIVE_JOB_STATES, registerJobGauges } from './job-gauges.ts';
import type { Observation } from './observation.ts';

const PROCESS_PREFIX = 'trainyard_';
/**
 * prom-client's gauges that end in `_total`, a suffix Prometheus keeps for counters (promtool refuses them);
 * each has a twin by type (`nodejs_active_handles{type="Socket"}`) that stays.
 */
const MISNAMED_PROCESS_GAUGES = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

export interface AppMetrics {
  /** The Content-Type of `render()`'s text: Prometheus' text format 0.0.4. */
  readonly contentType: string;
  /** Where the HTTP server counts its requests. */
  readonly http: HttpServerMetrics;
  /** Looks at the GPUs (one sample), the queue and the deployments once, then renders every metric in Prometheus' text format. */
  render(): Promise<string>;
}

export interface AppMetricsDeps {
  gpus: Pick<GpuInventory, 'list'>;
  jobs: Pick<Jobs, 'inStates'>;
  deployments: Pick<Deployments, 'live'>;
  /** The serving proxy's tallies per deployment. */
  servingMetrics: Pick<ServingMetrics, 'of'>;
  now: () => number;
}

/** The appliance's metrics in a registry of its own: every app has one, as tests build many apps in one process. */
export function createAppMetrics(deps: AppMetricsDeps): AppMetrics {
  const registry = new Registry();
  let observed: Observation = { at: deps.now(), snapshot: { kind: 'none', sampledAt: 0, devices: [], processes: [] }, activeJobs: [], deployments: [] };
  registerGpuGauges(registry, () => observed);
  registerJobGauges(registry, () => observed);
  registerDeploymentMetrics(registry, () => observed, deps.servingMetrics);
  const http = createHttpServerMetrics(registry);
  let processMetricsStarted = false;

  return {
    contentType: registry.contentType,
    http,
    async render() {
      // Started by the first scrape: the event-loop monitor and GC observer they bring cost nothing where no one scrapes.
      if (!processMetricsStarted) {
        collectDefaultMetrics({ register: registry, prefix: PROCESS_PREFIX });
        for (const name of MISNAMED_PROCESS_GAUGES) registry.removeSingleMetric(`${PROCESS_PREFIX}${name}`);
        processMetricsStarted = true;
      }
      const snapshot = await deps.gpus.list();
      const deployments = deps.deployments.live().map((deployment) => deployment.name);
      observed = { at: deps.now(), snapshot, activeJobs: deps.jobs.inStates(ACTIVE_JOB_STATES), deployments };
      return registry.metrics();
    },
  };
}
