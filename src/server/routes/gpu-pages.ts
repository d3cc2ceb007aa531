import { Hono } from 'hono';
import type { App } from '../../app.ts';
import type { UserRecord } from '../../auth/user-queries.ts';
import { gpuBoard, type GpuBoard, type GpuHolder } from '../../../web/views/gpu-board.ts';
import { gpusPage } from '../../../web/views/gpu-page.ts';
import type { Assets } from '../assets.ts';
import { principalOf, type AppEnv } from '../context.ts';
import { fragmentOrPage, pageProps } from '../page-props.ts';
import { jobRows } from './job-pages.ts';

/** The inventory's readings with the starting and running jobs placed on each GPU; other projects' jobs stay nameless. */
async function boardFor(app: App, user: UserRecord): Promise<GpuBoard> {
  const snapshot = await app.gpus.list();
  const toRow = jobRows(app, user);
  const visible = new Map<number, boolean>();
  const canSee = (projectId: number) => {
    if (!visible.has(projectId)) visible.set(projectId, app.projects.canSee(user, projectId));
    return visible.get(projectId)!;
  };
  const holders = new Map<string, GpuHolder[]>();
  for (const job of app.jobs.inStates(['starting', 'running'])) {
    const holder: GpuHolder = canSee(job.projectId) ? { id: job.id, name: job.name, user: toRow(job).user, state: job.state } : null;
    for (const uuid of job.gpuUuids) holders.set(uuid, [...(holders.get(uuid) ?? []), holder]);
  }
  return { snapshot, holders };
}

/**
 * The GPU board. The open page asks for the board again every few seconds (htmx polling) rather than being
 * pushed to: a poll is one ordinary GET that needs no server-side timer or subscription, stops when the tab
 * closes, and costs no more than a push would, since each viewer sees a board of their own (other projects'
 * jobs stay nameless) and the inventory shares one nvidia-smi sample among callers close together in time.
 */
export function gpuPages(app: App, assets: Assets) {
  return new Hono<AppEnv>().get('/gpus', async (c) => {
    const board = await boardFor(app, principalOf(c).user);
    return fragmentOrPage(
      c,
      () => gpuBoard(board),
      () => gpusPage({ ...pageProps(c, assets, 'gpus', 'GPUs'), board }),
    );
  });
}
