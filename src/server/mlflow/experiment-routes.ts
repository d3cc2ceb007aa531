import { Hono } from 'hono';
import type { App } from '../../app.ts';
import type { AppEnv } from '../context.ts';
import { mlflowHandler } from './mlflow-message.ts';

/** MLflow's experiment endpoints (service.proto); reads need the viewer role in the experiment's project, writes editor. */
export function experimentRoutes(app: App) {
  const routes = new Hono<AppEnv>();
  const experiments = app.tracking.experiments;

  routes.post('/experiments/create', mlflowHandler((caller, message) => experiments.create(caller, message)));
  routes.get('/experiments/get', mlflowHandler((caller, message) => experiments.get(caller, message)));
  routes.get('/experiments/get-by-name', mlflowHandler((caller, message) => experiments.getByName(caller, message)));
  routes.get('/experiments/search', mlflowHandler((caller, message) => experiments.search(caller, message)));
  routes.post('/experiments/search', mlflowHandler((caller, message) => experiments.search(caller, message)));
  routes.post('/experiments/update', mlflowHandler((caller, message) => experiments.rename(caller, message)));
  routes.post('/experiments/delete', mlflowHandler((caller, message) => experiments.delete(caller, message)));
  routes.post('/experiments/restore', mlflowHandler((caller, message) => experiments.restore(caller, message)));
  routes.post('/experiments/set-experiment-tag', mlflowHandler((caller, message) => experiments.setTag(caller, message)));
  routes.post('/experiments/delete-experiment-tag', mlflowHandler((caller, message) => experiments.deleteTag(caller, message)));
  routes.post('/experiments/search-datasets', mlflowHandler((caller, message) => experiments.searchDatasets(caller, message)));
  return routes;
}
