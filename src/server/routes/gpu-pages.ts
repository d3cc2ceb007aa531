import { Hono } from 'hono';
import type { App } from '../../app.ts';
import type { UserRecord } from '../../auth/user-queries.ts';
import type { MonitorSample } from '../../monitoring/sample.ts';
import type { JobRecord } from '../../scheduler/jobs.ts';
import { gpuBoard, type GpuBoard, type GpuHolder, type HolderUsage } from '../../../web/views/gpu-board.ts';
import { gpusPage } from '../../../web/views/gpu-page.ts';
import type { Assets } from '../assets.ts';
import { principalOf, type AppEnv } from '../context.ts';
import { fragmentOrPage, pageProps } from '../page-props.ts';
import { jobRows } from './job-pages.ts';
import { resourceChartAssets } from './monitoring-api.ts';

/**
 * What `job` uses of `unitUuid` by the sampler's latest round; undefined until a round has seen it there. A whole GPU
 * with no other holder is all that job's; on a shared GPU or a MIG device only the memory its own processes hold
 * tells, and only while the job holds nothing else (a container's GPU memory is one sum over all its GPUs).
 */
function usageOf(sample: MonitorSample | undefined, job: JobRecord, unitUuid: string): HolderUsage | undefined {
  const gpu = sample?.gpus.find((reading) => reading.holders.some((holder) => holder.jobId === job.id && holder.unitUuid === unitUuid));
  if (!sample || !gpu) return undefined;
  if (gpu.uuid === unitUuid && gpu.holders.length === 1) return { utilization: gpu.utilization, memory: gpu.memoryUsed };
  const container = sample.containers.find((reading) => reading.jobId === job.id);
  return { utilization: null, memory: job.gpuUuids.length === 1 ? (container?.gpuMemoryBytes ?? null) : null };
}

/** The inventory's readings with the starting and running jobs placed on each GPU; other projects' jobs stay nameless. */
async function boardFor(app: App, user: UserRecord): Promise<GpuBoard> {
  const snapshot = await app.gpus.list();
  const sample = app.monitoring.latest();
  const toRow = jobRows(app, user);
  const visible = new Map<number, boolean>();
  const canSee = (projectId: number) => {
    if (!visible.has(projectId)) visible.set(projectId, app.projects.canSee(user, projectId));
    return visible.get(projectId)!;
  };
  const holders = new Map<string, GpuHolder[]>();
  for (const job of app.jobs.inStates(['starting', 'running'])) {
    const deployment = job.deploymentId === null ? null : (app.deployments.byId(job.deploymentId)?.name ?? null);
    for (const uuid of job.gpuUuids) {
      const holder: GpuHolder = canSee(job.projectId) ? { id: job.id, name: job.name, user: toRow(job).user, state: job.state, deployment, usage: usageOf(sample, job, uuid) } : null;
      holders.set(uuid, [...(holders.get(uuid) ?? []), holder]);
    }
  }
  return { snapshot, holders };
}

/**
 * The GPU board and the GPUs' charts. The board asks for itself again every few seconds (htmx polling) rather than
 * being pushed to: a poll is one ordinary GET that needs no server-side timer or subscription, stops when the tab
 * closes, and costs no more than a push would, since each viewer sees a board of their own (other projects' jobs
 * stay nameless) and the inventory shares one nvidia-smi sample among callers close together in time. The charts'
 * points are the same for every viewer, and are pushed by the `gpus` feed as the sampler records them.
 */
export function gpuPages(app: App, assets: Assets) {
  return new Hono<AppEnv>().get('/gpus', async (c) => {
    const board = await boardFor(app, principalOf(c).user);
    return fragmentOrPage(
      c,
      () => gpuBoard(board),
      () => {
        const live = board.snapshot.devices.length ? ['gpus'] : undefined;
        return gpusPage({ ...pageProps(c, assets, 'gpus', 'GPUs', live), ...resourceChartAssets(assets), board });
      },
    );
  });
}
