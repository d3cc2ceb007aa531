import { describe, expect, it } from 'vitest';
import type { GpuDevice, GpuSnapshot } from '../../src/gpu/gpu-inventory.ts';
import { createAppMetrics, type AppMetricsDeps } from '../../src/monitoring/app-metrics.ts';
import type { JobRecord } from '../../src/scheduler/jobs.ts';
import type { DeploymentRecord } from '../../src/serving/deployments.ts';
import { createServingMetrics } from '../../src/serving/serving-metrics.ts';
import { familiesOf, parseSamples, valuesOf } from './prometheus-text.ts';

const GB = 1e9;
const NOW = Date.UTC(2026, 10, 22, 12);

const gpu = (index: number, readings: Partial<GpuDevice> = {}): GpuDevice => ({
  index,
  uuid: `GPU-${index}`,
  name: 'NVIDIA A100-SXM4-80GB',
  memoryTotal: 80 * GB,
  memoryUsed: 10 * GB,
  memoryFree: 70 * GB,
  utilization: 0.5,
  temperature: 60,
  powerDraw: 250,
  powerLimit: 400,
  migMode: null,
  migDevices: [],
  ...readings,
});

const migDevice = (parent: number, index: number) => ({
  uuid: `MIG-${parent}-${index}`, parentUuid: `GPU-${parent}`, index, profile: '3g.40gb', memoryTotal: 40 * GB, memoryUsed: 5 * GB, memoryFree: 35 * GB,
});

const holder = (state: JobRecord['state'], gpuUuids: string[], submittedAt = NOW) => ({ state, gpuUuids, submittedAt, notBefore: null }) as JobRecord;

const snapshotOf = (devices: GpuDevice[], problem?: string): GpuSnapshot =>
  ({ kind: 'nvidia', sampledAt: NOW, devices, processes: [], ...(problem && { problem }) });

/** The metrics of an appliance with these GPUs and nothing else, unless `deps` says otherwise. */
function metricsOf(devices: GpuDevice[], deps: Partial<AppMetricsDeps> = {}) {
  return createAppMetrics({
    gpus: { list: async () => snapshotOf(devices) },
    jobs: { inStates: () => [] },
    deployments: { live: () => [] },
    servingMetrics: createServingMetrics({ now: () => NOW }),
    now: () => NOW,
    ...deps,
  });
}

describe('the GPU gauges', () => {
  it('leave out a reading the GPU could not give ([N/A]) instead of reporting 0', async () => {
    const samples = parseSamples(await metricsOf([gpu(0), gpu(1, { utilization: null, temperature: null, powerDraw: null, powerLimit: null })]).render());
    expect(valuesOf(samples, 'trainyard_gpu_utilization_ratio')).toEqual([0.5]);
    expect(valuesOf(samples, 'trainyard_gpu_temperature_celsius', { gpu: '1' })).toEqual([]);
    expect(valuesOf(samples, 'trainyard_gpu_power_watts', { gpu: '1' })).toEqual([]);
    expect(valuesOf(samples, 'trainyard_gpu_memory_used_bytes', { gpu: '1', uuid: 'GPU-1', model: 'NVIDIA A100-SXM4-80GB' })).toEqual([10 * GB]);
  });

  it('leave out every reading while the GPUs cannot be sampled, rather than repeat the last good one', async () => {
    const metrics = metricsOf([], {
      gpus: { list: async () => snapshotOf([gpu(0)], 'nvidia-smi timed out after 10 s') },
      jobs: { inStates: () => [holder('running', ['GPU-0'])] },
    });
    const samples = parseSamples(await metrics.render());
    expect(samples.filter((sample) => sample.name.startsWith('trainyard_gpu_') && sample.name !== 'trainyard_gpu_allocated_jobs')).toEqual([]);
    expect(valuesOf(samples, 'trainyard_gpu_allocated_jobs', { uuid: 'GPU-0' })).toEqual([1]);
  });

  it('count a job once per GPU it holds, through its MIG devices too, and never a queued one', async () => {
    const mig = gpu(1, { migMode: 'enabled', utilization: null, migDevices: [migDevice(1, 1), migDevice(1, 2)] });
    const jobs = [
      holder('running', ['GPU-0']),
      holder('running', ['MIG-1-1', 'MIG-1-2']),
      holder('starting', ['MIG-1-2']),
      holder('queued', []),
      holder('running', ['GPU-gone']),
    ];
    const samples = parseSamples(await metricsOf([gpu(0), mig, gpu(2)], { jobs: { inStates: () => jobs } }).render());
    expect(valuesOf(samples, 'trainyard_gpu_allocated_jobs')).toEqual([1, 2, 0]);
  });

  it('read one sample per scrape, and a new one at the next', async () => {
    let samples = 0;
    const metrics = metricsOf([], { gpus: { list: async () => snapshotOf([gpu(0, { temperature: 40 + ++samples })]) } });
    expect(valuesOf(parseSamples(await metrics.render()), 'trainyard_gpu_temperature_celsius')).toEqual([41]);
    expect(valuesOf(parseSamples(await metrics.render()), 'trainyard_gpu_temperature_celsius')).toEqual([42]);
  });
});

describe('the deployment metrics', () => {
  it("render the serving proxy's tallies as a counter by status class and a latency histogram in seconds", async () => {
    const serving = createServingMetrics({ now: () => NOW });
    for (const [status, ms] of [[200, 3], [200, 40], [503, 2000], [404, 1]] as const) serving.record('churn', status, ms);
    serving.record('churn', 0, 10);
    const live = ['churn', 'idle'].map((name) => ({ name }) as DeploymentRecord);
    const text = await metricsOf([], { deployments: { live: () => live }, servingMetrics: serving }).render();
    const samples = parseSamples(text);
    expect(familiesOf(text).get('trainyard_serving_request_duration_seconds')).toBe('histogram');
    expect(valuesOf(samples, 'trainyard_serving_requests_total', { deployment: 'churn', status: '2xx' })).toEqual([2]);
    expect(valuesOf(samples, 'trainyard_serving_requests_total', { deployment: 'churn', status: '5xx' })).toEqual([1]);
    expect(valuesOf(samples, 'trainyard_serving_requests_total', { deployment: 'churn', status: 'other' })).toEqual([1]);
    expect(valuesOf(samples, 'trainyard_serving_requests_total', { deployment: 'idle' })).toEqual([0, 0, 0, 0]);
    const bucket = (le: string) => valuesOf(samples, 'trainyard_serving_request_duration_seconds_bucket', { deployment: 'churn', le });
    expect([bucket('0.001'), bucket('0.005'), bucket('0.05'), bucket('2.5'), bucket('+Inf')]).toEqual([[1], [2], [4], [5], [5]]);
    expect(valuesOf(samples, 'trainyard_serving_request_duration_seconds_count', { deployment: 'churn' })).toEqual([5]);
  });

  it('declare their families even before anything is deployed', async () => {
    const families = familiesOf(await metricsOf([]).render());
    expect(families.get('trainyard_serving_requests_total')).toBe('counter');
    expect(families.get('trainyard_serving_request_duration_seconds')).toBe('histogram');
  });
});
