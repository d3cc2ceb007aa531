import type { ContainerReading, GpuReading, MonitorSample } from '../../src/monitoring/sample.ts';
import { jobSubmissionSchema } from '../../src/scheduler/job-request.ts';
import type { JobRecord } from '../../src/scheduler/jobs.ts';
import type { TestApp } from '../helpers/test-app.ts';

export const GIB = 1024 ** 3;
export const HOUR = 3_600_000;
export const at = (iso: string) => Date.parse(iso);

/** The scheduler's moves, made by hand at the times (ISO strings) the test app's clock is set to. */
export function handScheduler(t: TestApp) {
  const moveAt = (iso: string, job: JobRecord, from: JobRecord['state'], to: JobRecord['state'], changes = {}) => {
    t.clock.now = at(iso);
    return t.app.jobs.move(job.id, from, to, `${from} -> ${to}`, changes)!;
  };
  return {
    submit(username: string, fields: Record<string, unknown>, iso: string): JobRecord {
      t.clock.now = at(iso);
      return t.app.jobs.submit(t.app.users.get(username), jobSubmissionSchema.parse({ image: 'busybox:1', command: ['train'], ...fields }));
    },
    start(job: JobRecord, gpuUuids: string[], iso: string): JobRecord {
      moveAt(iso, job, 'queued', 'starting', { gpuUuids });
      return moveAt(iso, job, 'starting', 'running', { startedAt: t.clock.now });
    },
    requeue: (job: JobRecord, iso: string) => moveAt(iso, job, 'running', 'queued', { gpuUuids: [], startedAt: null }),
    finish: (job: JobRecord, iso: string) => moveAt(iso, job, 'running', 'succeeded', { finishedAt: at(iso) }),
  };
}

/** An 80 GiB GPU's reading; each holder holds the GPU itself unless a unit (a MIG device) is named. */
export const gpuReading = (uuid: string, utilization: number | null, holders: Array<{ jobId: number; unitUuid?: string }>): GpuReading => ({
  uuid, index: 0, name: 'NVIDIA H100 80GB (simulated)', utilization, memoryUsed: null, memoryTotal: 80 * GIB, temperature: null, powerDraw: null, powerLimit: null,
  holders: holders.map(({ jobId, unitUuid = uuid }) => ({ jobId, unitUuid, deploymentId: null })),
});

export const containerReading = (jobId: number, cpu: number | null, memoryBytes: number | null): ContainerReading => ({ jobId, deploymentId: null, cpu, memoryBytes, gpuMemoryBytes: null });

/** A sampler round that ends at `iso` and covers `intervalMs` before it. */
export const sampleRound = (iso: string, intervalMs: number, gpus: GpuReading[], containers: ContainerReading[] = []): MonitorSample => ({
  at: at(iso), intervalMs, gpus, host: null, containers, skipped: [],
});

/**
 * Mia's job on GPU 0 from 23:00 to 01:30 next day, sampled at 50% with 2 cores and 4 GiB for an hour across
 * midnight; the admin's quarter of GPU 1 in project `vision` for 3 h on the 22nd (sampled at 80%). By 02:00 on
 * the 23rd, `default` holds 1 GPU-hour on the 22nd and 1.5 on the 23rd, `vision` 0.75 on the 22nd.
 */
export async function recordSomeUsage(t: TestApp, users: { member: string; admin: string }): Promise<void> {
  const gpus = (await t.app.gpus.list()).devices.map((device) => device.uuid);
  t.app.projects.create({ name: 'vision', description: '' }, { actor: 'test' });
  const jobs = handScheduler(t);
  const mine = jobs.submit(users.member, { gpus: 1 }, '2026-11-22T22:00:00Z');
  jobs.start(mine, [gpus[0]!], '2026-11-22T23:00:00Z');
  const slice = jobs.submit(users.admin, { gpuMemory: '20GiB', project: 'vision' }, '2026-11-22T11:00:00Z');
  jobs.start(slice, [gpus[1]!], '2026-11-22T12:00:00Z');
  jobs.finish(slice, '2026-11-22T15:00:00Z');
  jobs.finish(mine, '2026-11-23T01:30:00Z');
  t.app.bus.publish('monitoring.sample', sampleRound('2026-11-23T00:30:00Z', HOUR, [gpuReading(gpus[0]!, 0.5, [{ jobId: mine.id }])], [containerReading(mine.id, 2, 4 * GIB)]));
  t.app.bus.publish('monitoring.sample', sampleRound('2026-11-22T13:00:00Z', HOUR, [gpuReading(gpus[1]!, 0.8, [{ jobId: slice.id }])]));
  t.clock.now = at('2026-11-23T02:00:00Z');
}
