import { Hono } from 'hono';
import type { App } from '../../app.ts';
import type { AppEnv } from '../context.ts';

/** The GPUs as the inventory sees them now, for anyone signed in: devices, MIG devices, processes. */
export function gpuApi(app: App) {
  const routes = new Hono<AppEnv>();

  routes.get('/gpus', async (c) => c.json(await app.gpus.list()));

  return routes;
}
