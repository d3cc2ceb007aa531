import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createMonitoring, type Monitoring, type MonitoringDeps } from '../../src/monitoring/monitoring.ts';
import type { ContainerReading, GpuReading, HostReading, MonitorSample } from '../../src/monitoring/sample.ts';
import { jobSubmissionSchema } from '../../src/scheduler/job-request.ts';
import type { JobRecord } from '../../src/scheduler/jobs.ts';
import { capturedLog, fakeExecutable, readFixture } from '../gpu/gpu-fixtures.ts';
import { MEMBER, type TestApp } from '../helpers/test-app.ts';

export const INTERVAL_MS = 5_000;

/** A monitor over the test app's database, bus, jobs and clock; the GPUs, host and containers as the test says. */
export function monitorOf(t: TestApp, overrides: Partial<MonitoringDeps> = {}): { monitoring: Monitoring; warnings: () => string[] } {
  const { log, entries } = capturedLog();
  const monitoring = createMonitoring({
    db: t.app.db,
    bus: t.app.bus,
    log,
    now: () => t.clock.now,
    gpus: t.app.gpus,
    jobs: t.app.jobs,
    containers: () => t.app.runtime,
    readHost: async () => HOST,
    intervalMs: INTERVAL_MS,
    ...overrides,
  });
  return { monitoring, warnings: () => entries().filter((entry) => entry.level >= 40).map((entry) => String(entry.reason ?? entry.msg)) };
}

/** A job of the member's moved to running on `gpuUuids` in `containerId`, as the scheduler would. */
export function runningJob(t: TestApp, gpuUuids: string[], containerId: string | null = null): JobRecord {
  const submission = jobSubmissionSchema.parse({ project: 'default', name: 'train', image: 'busybox:1', command: ['true'], gpus: gpuUuids.length });
  const job = t.app.jobs.submit(t.app.users.get(MEMBER.username), submission);
  t.app.jobs.move(job.id, 'queued', 'starting', 'placed', { gpuUuids });
  return t.app.jobs.move(job.id, 'starting', 'running', 'started', { startedAt: t.clock.now, containerId })!;
}

export const HOST: HostReading = {
  cpu: 0.25,
  load1: 1.5,
  memoryUsed: 8e9,
  memoryTotal: 64e9,
  diskUsed: 100e9,
  diskTotal: 1e12,
  netRxBytesPerSecond: 1000,
  netTxBytesPerSecond: 500,
};

export function gpuAt(uuid: string, readings: Partial<GpuReading> = {}): GpuReading {
  return { uuid, index: 0, name: 'NVIDIA H100 80GB HBM3', utilization: 0.5, memoryUsed: 40e9, memoryTotal: 80e9, temperature: 50, powerDraw: 400, powerLimit: 700, holders: [], ...readings };
}

export function containerAt(jobId: number, readings: Partial<ContainerReading> = {}): ContainerReading {
  return { jobId, deploymentId: null, cpu: 1, memoryBytes: 1e9, gpuMemoryBytes: null, ...readings };
}

export function roundAt(at: number, parts: Partial<Omit<MonitorSample, 'at'>> = {}): MonitorSample {
  return { at, intervalMs: INTERVAL_MS, gpus: [], host: null, containers: [], skipped: [], ...parts };
}

type SmiOutput = 'query-gpu' | 'compute-apps' | 'list' | 'query';

/**
 * An nvidia-smi that answers from files beside it, set by the test: `answer` changes what it prints, `hang`
 * makes it sleep, `fail` makes it exit 9 with a message, `remove` takes the binary away. It runs as a real process.
 */
export function fakeNvidiaSmi() {
  const { dir, binary } = fakeExecutable(`dir=$(dirname "$0")
[ -e "$dir/hang" ] && exec sleep 30
if [ -e "$dir/fail" ]; then cat "$dir/fail" >&2; exit 9; fi
case "$1" in
  --query-gpu=*) cat "$dir/query-gpu" ;;
  --query-compute-apps=*) cat "$dir/compute-apps" ;;
  -L) cat "$dir/list" ;;
  *) cat "$dir/query" ;;
esac`);
  const answer = (outputs: Partial<Record<SmiOutput, string>>) => {
    for (const [name, text] of Object.entries(outputs)) writeFileSync(join(dir, name), text);
  };
  answer({ 'query-gpu': readFixture('h100x8-query-gpu.csv'), 'compute-apps': '', list: readFixture('h100x8-list.txt'), query: '' });
  return {
    binary,
    answer,
    hang: (on: boolean) => (on ? writeFileSync(join(dir, 'hang'), '') : rmSync(join(dir, 'hang'), { force: true })),
    fail: (message: string) => writeFileSync(join(dir, 'fail'), message),
    remove: () => rmSync(binary),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
