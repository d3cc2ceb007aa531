import { Hono } from 'hono';
import type { App } from '../../app.ts';
import type { Principal } from '../../auth/credentials.ts';
import { roleAtLeast } from '../../auth/projects.ts';
import type { UserRecord } from '../../auth/user-queries.ts';
import { badRequest } from '../../lib/errors.ts';
import { deploymentEventJson, deploymentJsonWriter, replicaJson } from '../../serving/deployment-json.ts';
import { createDeploymentTokens, tokenIdSchema } from '../../serving/deployment-tokens.ts';
import { isEnded, type DeploymentRecord } from '../../serving/deployments.ts';
import { requestSampleJson } from '../../serving/request-samples.ts';
import { deploymentHref, type DeploymentRow } from '../../../web/views/deployment-format.ts';
import { deploymentDetail, deploymentPage, type DeploymentDetail } from '../../../web/views/deployment-page.ts';
import { deploymentTokensPanel, type DeploymentTokensProps } from '../../../web/views/deployment-tokens.ts';
import { deploymentTable, deploymentsPage, type DeploymentFilter } from '../../../web/views/deployments-page.ts';
import { gpuLabels } from '../../../web/views/gpu-board.ts';
import { seriesFeedName } from '../../../web/views/resource-chart.ts';
import type { Assets } from '../assets.ts';
import { isHtmx, principalOf, type AppContext, type AppEnv } from '../context.ts';
import { fragmentOrPage, pageProps, serverUrl } from '../page-props.ts';
import { parseWith, readForm } from '../request-body.ts';
import { resourceChartAssets } from './monitoring-api.ts';

const REPLICA_STATES = ['queued', 'starting', 'running'] as const;
const PROBLEMS_SHOWN = 5;
const SAMPLES_SHOWN = 10;

/** The list's filter from query parameters; anything unknown is a 400 that says what is allowed. */
export function parseDeploymentFilter(read: (name: string) => string | undefined): DeploymentFilter {
  const ended = read('ended') || undefined;
  if (ended !== undefined && ended !== '1') throw badRequest(`ended must be 1 or left out, got "${ended}"`);
  return { project: read('project') || undefined, ended: ended === '1' };
}

/** Deployments as the pages show them for `user`: names for ids, each with its traffic. */
function deploymentRows(app: App, user: UserRecord) {
  const write = deploymentJsonWriter(app, user);
  return (deployment: DeploymentRecord): DeploymentRow => ({
    deployment: write(deployment, app.deployments.status(deployment.id)),
    modelName: deployment.modelName,
    metrics: app.servingMetrics.of(deployment.name),
  });
}

/** Replica restarts and failures, which the timeline would otherwise bury among routine events. */
const isProblem = ({ kind, message }: { kind: string; message: string }) => kind === 'replica' || message.includes('failed');

/** One deployment with its replicas, events and traffic; 404 when `principal` may not see it. */
async function deploymentDetailFor(app: App, principal: Principal, name: string): Promise<DeploymentDetail> {
  const { user, csrfToken = '' } = principal;
  const deployment = app.deployments.get(user, name);
  const { role } = app.projects.authorizeId(user, deployment.projectId, 'viewer');
  const status = app.deployments.status(deployment.id);
  const ended = isEnded(deployment.state);
  const events = app.deployments.events(deployment.id).map(deploymentEventJson).reverse();
  return {
    ...deploymentRows(app, user)(deployment),
    deploymentId: deployment.id,
    replicas: app.jobs.replicasOf(deployment.id, [...REPLICA_STATES]).map((job) => ({ replica: replicaJson(job, status), gpuUuids: job.gpuUuids })),
    events,
    problems: events.filter(isProblem).slice(0, PROBLEMS_SHOWN),
    gpuLabels: gpuLabels(await app.gpus.list()),
    ended,
    editing: !ended && roleAtLeast(role, 'editor') ? { csrfToken } : undefined,
    samples: app.requestSamples.list(deployment.id, SAMPLES_SHOWN).map(requestSampleJson),
  };
}

/**
 * The deployments list, a deployment's page (refreshed by polling), the forms that promote, roll back and undeploy,
 * and those that make and revoke the deployment's tokens.
 */
export function deploymentPages(app: App, assets: Assets) {
  const routes = new Hono<AppEnv>();
  const deploymentTokens = createDeploymentTokens(app);
  const callerOf = (c: AppContext) => ({ user: principalOf(c).user, ip: c.get('clientIp') });

  /** The token panel for an editor of a live deployment, with the secret of a token just made; undefined for others. */
  const tokensFor = (c: AppContext, detail: DeploymentDetail, created?: string): DeploymentTokensProps | undefined => {
    if (!detail.editing) return undefined;
    const { name } = detail.deployment;
    return { name, tokens: deploymentTokens.list(principalOf(c).user, name), editing: detail.editing, now: app.now(), ...(created && { created }) };
  };

  const page = (c: AppContext, detail: DeploymentDetail, created?: string) => {
    const live = detail.ended ? undefined : [seriesFeedName({ kind: 'deployment', deploymentId: detail.deploymentId })];
    const props = { ...pageProps(c, assets, 'deployments', `Deployment ${detail.deployment.name}`, live), ...resourceChartAssets(assets) };
    return deploymentPage({ ...props, detail, serverUrl: serverUrl(c, app), tokens: tokensFor(c, detail, created) });
  };

  /** After a token is made or revoked: htmx gets the token panel, a plain form post the page (with a new secret, once). */
  const answerTokens = async (c: AppContext, name: string, created?: string) => {
    const detail = await deploymentDetailFor(app, principalOf(c), name);
    const tokens = tokensFor(c, detail, created);
    return c.html(!isHtmx(c) ? page(c, detail, created) : tokens ? deploymentTokensPanel(tokens) : '');
  };

  /** After a change: htmx gets the refreshed details, a plain form post goes back to the page. */
  const answerChanged = async (c: AppContext, name: string) => {
    if (!isHtmx(c)) return c.redirect(deploymentHref(name), 303);
    return c.html(deploymentDetail(await deploymentDetailFor(app, principalOf(c), name)));
  };

  routes.get('/deployments', (c) => {
    const { user } = principalOf(c);
    const filter = parseDeploymentFilter((name) => c.req.query(name));
    const table = { filter, rows: app.deployments.list(user, { ended: filter.ended, ...(filter.project && { project: filter.project }) }).map(deploymentRows(app, user)) };
    return fragmentOrPage(
      c,
      () => deploymentTable(table),
      () => {
        const projects = app.projects.listFor(user).map(({ project }) => project.name).sort();
        return deploymentsPage({ ...pageProps(c, assets, 'deployments', 'Deployments'), table, projects });
      },
    );
  });

  routes.get('/deployments/:name', async (c) => {
    const detail = await deploymentDetailFor(app, principalOf(c), c.req.param('name'));
    return fragmentOrPage(c, () => deploymentDetail(detail), () => page(c, detail));
  });

  routes.post('/deployments/:name/undeploy', (c) => {
    const name = c.req.param('name');
    app.deployments.undeploy(callerOf(c), name);
    return answerChanged(c, name);
  });

  routes.post('/deployments/:name/rollback', async (c) => {
    const name = c.req.param('name');
    await app.deployments.rollback(callerOf(c), name);
    return answerChanged(c, name);
  });

  routes.post('/deployments/:name/promote', (c) => {
    const name = c.req.param('name');
    app.deployments.promote(callerOf(c), name);
    return answerChanged(c, name);
  });

  routes.post('/deployments/:name/tokens', async (c) => {
    const name = c.req.param('name');
    const form = await readForm(c);
    const { token } = deploymentTokens.create(callerOf(c), name, { name: form.name ?? '', ...(form.expiresIn && { expiresIn: form.expiresIn }) });
    return answerTokens(c, name, token);
  });

  routes.post('/deployments/:name/tokens/:id/revoke', (c) => {
    const name = c.req.param('name');
    deploymentTokens.revoke(callerOf(c), name, parseWith(tokenIdSchema, c.req.param('id')));
    return answerTokens(c, name);
  });

  return routes;
}
