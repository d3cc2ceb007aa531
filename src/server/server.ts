import { Hono } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import type { App } from '../app.ts';
import { HttpError } from '../lib/errors.ts';
import { createAppMetrics } from '../monitoring/app-metrics.ts';
import { loadAssets } from './assets.ts';
import type { AppEnv } from './context.ts';
import { liveRoutes } from './live.ts';
import { authenticate, requireCredential } from './middleware/authenticate.ts';
import { bodyLimit } from './middleware/body-limit.ts';
import { clientInfo } from './middleware/client-info.ts';
import { csrfProtection } from './middleware/csrf.ts';
import { errorHandler, notFoundHandler } from './middleware/error-handler.ts';
import { requestLog } from './middleware/request-log.ts';
import { requestMetrics } from './middleware/request-metrics.ts';
import { runScope } from './middleware/run-scope.ts';
import { artifactRoutes, isArtifactUpload, multipartPartRoutes } from './mlflow/artifact-routes.ts';
import { mlflowRoutes } from './mlflow/mlflow-routes.ts';
import { adminPages } from './routes/admin-pages.ts';
import { alertApi } from './routes/alert-api.ts';
import { alertPages } from './routes/alert-pages.ts';
import { authApi } from './routes/auth-api.ts';
import { comparePages } from './routes/compare-pages.ts';
import { deploymentApi } from './routes/deployment-api.ts';
import { deploymentPages } from './routes/deployment-pages.ts';
import { experimentPages } from './routes/experiment-pages.ts';
import { gpuApi } from './routes/gpu-api.ts';
import { gpuPages } from './routes/gpu-pages.ts';
import { healthRoutes } from './routes/health.ts';
import { hostPages } from './routes/host-pages.ts';
import { jobApi } from './routes/job-api.ts';
import { jobPages } from './routes/job-pages.ts';
import { metricSeriesApi } from './routes/metric-series-api.ts';
import { metricsRoutes } from './routes/metrics-route.ts';
import { modelPages } from './routes/model-pages.ts';
import { monitoringApi } from './routes/monitoring-api.ts';
import { overviewRoutes } from './routes/overview.ts';
import { projectPages } from './routes/project-pages.ts';
import { runPages } from './routes/run-pages.ts';
import { sessionRoutes, signOutRoutes } from './routes/session.ts';
import { isSnapshotUpload, snapshotApi } from './routes/snapshot-api.ts';
import { staticRoutes } from './routes/static.ts';
import { tokenPages } from './routes/token-pages.ts';
import { usageApi } from './routes/usage-api.ts';
import { usagePages } from './routes/usage-pages.ts';

/** Routes anyone may reach. Everything else needs a credential; a test walks the route table to prove it. */
export const PUBLIC_ROUTES = [
  'GET /health',
  'GET /static/:hash/:name',
  'GET /login',
  'POST /login',
  // A multipart upload's parts: pre-signed URLs, checked by their signature instead of a credential.
  'PUT /api/2.0/mlflow-artifacts/mpu/part/:uploadId/:partNumber',
];

export function createServer(app: App) {
  const assets = loadAssets();
  const http = new Hono<AppEnv>();
  const metrics = createAppMetrics(app);

  http.onError(errorHandler(app.log, assets.urls));
  http.notFound(notFoundHandler(assets.urls));

  http.use(requestMetrics(metrics.http));
  http.use(clientInfo({ trustProxy: app.config.trustProxy }));
  http.use(requestLog(app.log));
  http.use(
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        frameAncestors: ["'none'"],
      },
    }),
  );
  const limitBody = bodyLimit({
    maxSize: app.config.maxBodyBytes,
    onError: () => {
      throw new HttpError(413, 'REQUEST_TOO_LARGE', `the request body is larger than ${app.config.maxBodyBytes} bytes`);
    },
  });
  http.use((c, next) => (isArtifactUpload(c.req.method, c.req.path) || isSnapshotUpload(c.req.method, c.req.path) ? next() : limitBody(c, next)));

  // Public.
  http.route('/', healthRoutes());
  http.route('/', staticRoutes(assets));
  http.route('/', multipartPartRoutes(app));
  http.use(authenticate(app.credentials));
  // A credential, or an address that metricsAllowFrom lets scrape without one.
  http.route('/', metricsRoutes(app, metrics));
  http.route('/', sessionRoutes(app, assets));

  // Everything below needs a credential.
  http.use(requireCredential());
  http.use(csrfProtection());
  http.use(runScope(app));
  http.route('/', signOutRoutes(app));
  http.route('/', liveRoutes(app));
  http.route('/', overviewRoutes(app, assets));
  http.route('/', tokenPages(app, assets));
  http.route('/', projectPages(app, assets));
  http.route('/', adminPages(app, assets));
  http.route('/', experimentPages(app, assets));
  http.route('/', comparePages(app, assets));
  http.route('/', runPages(app, assets));
  http.route('/', modelPages(app, assets));
  http.route('/', jobPages(app, assets));
  http.route('/', deploymentPages(app, assets));
  http.route('/', gpuPages(app, assets));
  http.route('/', usagePages(app, assets));
  http.route('/', alertPages(app, assets));
  http.route('/', hostPages(app, assets));
  http.route('/api/v1', authApi(app));
  http.route('/api/v1', metricSeriesApi(app));
  http.route('/api/v1', gpuApi(app));
  http.route('/api/v1', alertApi(app));
  http.route('/api/v1', monitoringApi(app));
  http.route('/api/v1', jobApi(app));
  http.route('/api/v1', deploymentApi(app));
  http.route('/api/v1', snapshotApi(app));
  http.route('/api/v1', usageApi(app));
  for (const prefix of ['/api/2.0', '/ajax-api/2.0']) {
    http.route(`${prefix}/mlflow`, mlflowRoutes(app));
    http.route(`${prefix}/mlflow-artifacts`, artifactRoutes(app));
  }

  return http;
}
