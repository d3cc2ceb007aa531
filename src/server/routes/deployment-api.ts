import { Hono } from 'hono';
import { z } from 'zod';
import type { App } from '../../app.ts';
import { deploymentEventJson, deploymentJsonWriter, replicaJson } from '../../serving/deployment-json.ts';
import { deploymentRequestSchema } from '../../serving/deployment-request.ts';
import type { DeploymentRecord } from '../../serving/deployments.ts';
import { principalOf, type AppContext, type AppEnv } from '../context.ts';
import { parseWith, readJson } from '../request-body.ts';

const flag = z.enum(['0', '1', 'false', 'true']).transform((value) => value === '1' || value === 'true');
const listQuerySchema = z.object({ project: z.string().min(1).optional(), all: flag.default(false) });

/** The deployments API: create, list, read (with replicas and events), undeploy, roll back. */
export function deploymentApi(app: App) {
  const api = new Hono<AppEnv>();
  const callerOf = (c: AppContext) => ({ user: principalOf(c).user, ip: c.get('clientIp') });
  const writerFor = (c: AppContext) => {
    const write = deploymentJsonWriter(app, principalOf(c).user);
    return (deployment: DeploymentRecord) => write(deployment, app.deployments.status(deployment.id));
  };

  api.post('/deployments', async (c) => {
    const request = await readJson(c, deploymentRequestSchema);
    const deployment = await app.deployments.create(callerOf(c), { ...request, image: request.image ?? app.config.defaultServingImage });
    return c.json({ deployment: writerFor(c)(deployment) }, 201);
  });

  api.get('/deployments', (c) => {
    const query = parseWith(listQuerySchema, c.req.query());
    const found = app.deployments.list(principalOf(c).user, { ended: query.all, ...(query.project && { project: query.project }) });
    return c.json({ deployments: found.map(writerFor(c)) });
  });

  api.get('/deployments/:name', (c) => {
    const deployment = app.deployments.get(principalOf(c).user, c.req.param('name'));
    const status = app.deployments.status(deployment.id);
    return c.json({
      deployment: writerFor(c)(deployment),
      replicas: app.jobs.replicasOf(deployment.id, ['queued', 'starting', 'running']).map((job) => replicaJson(job, status)),
      events: app.deployments.events(deployment.id).map(deploymentEventJson),
    });
  });

  api.delete('/deployments/:name', (c) => c.json({ deployment: writerFor(c)(app.deployments.undeploy(callerOf(c), c.req.param('name'))) }));

  api.post('/deployments/:name/rollback', async (c) => {
    const deployment = await app.deployments.rollback(callerOf(c), c.req.param('name'));
    return c.json({ deployment: writerFor(c)(deployment) }, 202);
  });

  return api;
}
