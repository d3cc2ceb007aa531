import { Hono } from 'hono';
import type { App } from '../../app.ts';
import type { AppEnv } from '../context.ts';
import { experimentRoutes } from './experiment-routes.ts';
import { loggedModelRoutes } from './logged-model-routes.ts';
import { registryRoutes } from './registry-routes.ts';
import { runRoutes } from './run-routes.ts';

/**
 * MLflow's REST API (service.proto, model_registry.proto) with its JSON shapes and error codes, so the
 * unmodified `mlflow` client works against Trainyard. Mounted under /api/2.0/mlflow and /ajax-api/2.0/mlflow.
 */
export function mlflowRoutes(app: App) {
  const routes = new Hono<AppEnv>();
  routes.route('/', experimentRoutes(app));
  routes.route('/', runRoutes(app));
  routes.route('/', loggedModelRoutes(app));
  routes.route('/', registryRoutes(app));
  return routes;
}
