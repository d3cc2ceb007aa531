import { Hono } from 'hono';
import { z } from 'zod';
import type { App } from '../../app.ts';
import { newDeploymentTokenSchema } from '../../auth/tokens.ts';
import { deploymentEventJson, deploymentJsonWriter, replicaJson } from '../../serving/deployment-json.ts';
import { deploymentRequestSchema, deploymentSettingsSchema } from '../../serving/deployment-request.ts';
import { createDeploymentTokens, tokenIdSchema } from '../../serving/deployment-tokens.ts';
import type { DeploymentRecord } from '../../serving/deployments.ts';
import { requestSampleJson } from '../../serving/request-samples.ts';
import { principalOf, type AppContext, type AppEnv } from '../context.ts';
import { parseWith, readJson } from '../request-body.ts';

const flag = z.enum(['0', '1', 'false', 'true']).transform((value) => value === '1' || value === 'true');
const listQuerySchema = z.object({ project: z.string().min(1).optional(), all: flag.default(false) });
const MAX_SAMPLES = 1000;
const SAMPLE_LIMIT_RULE = `a whole number from 1 to ${MAX_SAMPLES}`;
const samplesQuerySchema = z.object({
  limit: z
    .string()
    .regex(/^[1-9]\d{0,3}$/, SAMPLE_LIMIT_RULE)
    .transform(Number)
    .refine((limit) => limit <= MAX_SAMPLES, SAMPLE_LIMIT_RULE)
    .default(100),
});

/**
 * The deployments API: create, list, read (with replicas and events), change settings, undeploy, roll back, promote
 * a canary; the deployment's own tokens; its sampled calls.
 */
export function deploymentApi(app: App) {
  const api = new Hono<AppEnv>();
  const tokens = createDeploymentTokens(app);
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

  api.patch('/deployments/:name', async (c) => {
    const settings = await readJson(c, deploymentSettingsSchema);
    return c.json({ deployment: writerFor(c)(app.deployments.configure(callerOf(c), c.req.param('name'), settings)) });
  });

  api.post('/deployments/:name/rollback', async (c) => {
    const deployment = await app.deployments.rollback(callerOf(c), c.req.param('name'));
    return c.json({ deployment: writerFor(c)(deployment) }, 202);
  });

  api.post('/deployments/:name/promote', (c) => c.json({ deployment: writerFor(c)(app.deployments.promote(callerOf(c), c.req.param('name'))) }, 202));

  api.post('/deployments/:name/tokens', async (c) => {
    const input = await readJson(c, newDeploymentTokenSchema);
    return c.json(tokens.create(callerOf(c), c.req.param('name'), input), 201);
  });

  api.get('/deployments/:name/tokens', (c) => c.json({ tokens: tokens.list(principalOf(c).user, c.req.param('name')) }));

  api.delete('/deployments/:name/tokens/:id', (c) => {
    const id = parseWith(tokenIdSchema, c.req.param('id'));
    return c.json({ token: tokens.revoke(callerOf(c), c.req.param('name'), id) });
  });

  api.get('/deployments/:name/samples', (c) => {
    const { limit } = parseWith(samplesQuerySchema, c.req.query());
    const deployment = app.deployments.get(principalOf(c).user, c.req.param('name'));
    return c.json({ samples: app.requestSamples.list(deployment.id, limit).map(requestSampleJson) });
  });

  return api;
}
