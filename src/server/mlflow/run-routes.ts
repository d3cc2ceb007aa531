import { Hono } from 'hono';
import type { App } from '../../app.ts';
import type { AppContext, AppEnv } from '../context.ts';
import { callerOf, messageOf, mlflowHandler } from './mlflow-message.ts';

/** MLflow 2 clients talk to MLflow 2 servers, whose runs carry no `outputs`: answer each client in its own shape. */
const speaksMlflow3 = (c: AppContext) => !/^mlflow-python-client\/[012]\./.test(c.req.header('User-Agent') ?? '');

/** MLflow's run and metric endpoints (service.proto); reads need the viewer role in the run's project, writes editor. */
export function runRoutes(app: App) {
  const routes = new Hono<AppEnv>();
  const { runs, metrics } = app.tracking;

  routes.post('/runs/create', mlflowHandler((caller, message) => runs.create(caller, message)));
  routes.get('/runs/get', mlflowHandler((caller, message, c) => runs.get(caller, message, { outputs: speaksMlflow3(c) })));
  routes.post('/runs/update', mlflowHandler((caller, message) => runs.update(caller, message)));
  routes.post('/runs/delete', mlflowHandler((caller, message) => runs.delete(caller, message)));
  routes.post('/runs/restore', mlflowHandler((caller, message) => runs.restore(caller, message)));
  routes.post('/runs/search', mlflowHandler((caller, message) => runs.search(caller, message)));
  routes.post('/runs/set-tag', mlflowHandler((caller, message) => runs.setTag(caller, message)));
  routes.post('/runs/delete-tag', mlflowHandler((caller, message) => runs.deleteTag(caller, message)));
  routes.post('/runs/log-parameter', mlflowHandler((caller, message) => runs.logParam(caller, message)));
  routes.post('/runs/log-metric', mlflowHandler((caller, message) => metrics.logMetric(caller, message)));
  routes.post('/runs/log-batch', mlflowHandler((caller, message) => metrics.logBatch(caller, message)));
  routes.post('/runs/log-inputs', mlflowHandler((caller, message) => runs.logInputs(caller, message)));
  routes.post('/runs/log-model', mlflowHandler((caller, message) => runs.logModel(caller, message)));
  routes.post('/runs/outputs', mlflowHandler((caller, message) => runs.logOutputs(caller, message)));
  routes.get('/metrics/get-history', async (c) => c.body(metrics.history(callerOf(c), await messageOf(c)), 200, { 'Content-Type': 'application/json' }));
  routes.get('/metrics/get-history-bulk', mlflowHandler((caller, message) => metrics.bulk(caller, message)));
  routes.get('/metrics/get-history-bulk-interval', mlflowHandler((caller, message) => metrics.bulkInterval(caller, message)));
  return routes;
}
