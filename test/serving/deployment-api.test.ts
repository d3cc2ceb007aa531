// The deployments API without an engine: the manager runs, but no scheduler places the replicas it queues.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserRecord } from '../../src/auth/user-queries.ts';
import { jobContainerRequest, jobFolders } from '../../src/scheduler/job-container.ts';
import { REPLICA_PRIORITY } from '../../src/scheduler/job-request.ts';
import type { DeploymentManager } from '../../src/serving/deployment-manager.ts';
import type { DeploymentJson } from '../../src/serving/deployment-json.ts';
import { runScenarios, type Scenario } from '../helpers/scenarios.ts';
import { ADMIN, MEMBER, createTestApp, type TestApp } from '../helpers/test-app.ts';
import { addUser } from '../server/mlflow/tracking-client.ts';
import { managerFor, registerVersion, setAlias, untilDeployment } from './deployment-fixtures.ts';

let t: TestApp;
let manager: DeploymentManager;
let member: UserRecord;
let modelFolder: string;
const VIEWER = { username: 'vic', password: 'vic-password-1' };
const OUTSIDER = { username: 'olga', password: 'olga-password-1' };
type User = { username: string; password: string };
const basic = ({ username, password }: User) => `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;

async function call<T = Record<string, any>>(method: string, path: string, user: User = MEMBER, body?: unknown) {
  const response = await t.request(path, {
    method,
    headers: { Authorization: basic(user), ...(body !== undefined && { 'Content-Type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as T };
}
const create = (fields: Record<string, unknown>, user: User = MEMBER) => call<{ deployment: DeploymentJson }>('POST', '/api/v1/deployments', user, fields);

beforeAll(async () => {
  t = await createTestApp();
  await addUser(t, VIEWER.username, 'viewer');
  await addUser(t, OUTSIDER.username, undefined);
  t.app.projects.setMember(t.app.projects.create({ name: 'secret' }, { actor: 'test' }), OUTSIDER.username, 'editor', { actor: 'test' });
  member = t.app.users.get(MEMBER.username);
  const admin = t.app.users.get(ADMIN.username);
  await registerVersion(t.app, admin, 'churn', { 'model.pkl': 'one' });
  await registerVersion(t.app, admin, 'churn', { 'model.pkl': 'two' });
  setAlias(t.app, admin, 'churn', 'champion', 2);
  modelFolder = join(t.app.artifacts.root, t.app.registry.getModelVersion({ user: admin }, { name: 'churn', version: '2' }).storageLocation.replace('mlflow-artifacts:/', ''));
  // A version whose files were never uploaded, and one kept somewhere else.
  const { run } = t.app.tracking.runs.create({ user: admin }, { experiment_id: '0' });
  t.app.registry.createModelVersion({ user: admin }, { name: 'churn', source: `runs:/${run.info.run_id}/model`, runId: run.info.run_id });
  t.app.registry.createModelVersion({ user: admin }, { name: 'churn', source: 's3://bucket/churn/model' });
  manager = managerFor(t.app);
  await manager.start();
});
afterAll(() => manager?.stop());

describe('POST /api/v1/deployments', () => {
  it('creates a deployment of a version, answers it as one JSON shape, and queues its replica as a job', async () => {
    const { status, json } = await create({ name: 'churn-v2', model: 'models:/churn/2', env: { THREADS: '2' }, cpus: 1, memory: '1GB', replicas: 2 });
    expect(status, JSON.stringify(json)).toBe(201);
    expect(json.deployment).toEqual({
      name: 'churn-v2',
      project: 'default',
      model: 'models:/churn/2',
      alias: null,
      version: 2,
      previousVersion: null,
      rollout: null,
      canary: null,
      image: 'trainyard/python-serve:bookworm',
      command: null,
      port: 8080,
      env: { THREADS: '2' },
      resources: { gpus: 0, gpuMemory: null, cpus: 1, memory: 2 ** 30 },
      replicas: 2,
      readyReplicas: 0,
      healthPath: '/ping',
      readinessTimeoutMs: 120_000,
      public: false,
      canaryWeight: null,
      sampleRate: 0,
      sampleMaxBytes: 65_536,
      state: 'pending',
      reason: 'waiting for its replicas to be placed',
      path: '/serve/churn-v2',
      createdBy: MEMBER.username,
      createdAt: t.clock.now,
      updatedAt: t.clock.now,
      readyAt: null,
    });
    const id = t.app.deployments.get(member, 'churn-v2').id;
    await untilDeployment(t.app, id, (deployment) => deployment.reason === 'replica 1 is queued: waiting to be placed');
    const replicas = t.app.jobs.replicasOf(id, ['queued']);
    expect(replicas.map((job) => job.name)).toEqual(['serve:churn-v2#1', 'serve:churn-v2#2']);
    expect(replicas[0]).toMatchObject({
      deploymentId: id,
      userId: member.id,
      image: 'trainyard/python-serve:bookworm',
      command: [],
      priority: REPLICA_PRIORITY,
      preemptible: false,
      timeLimitMs: null,
      maxRetries: 0,
      mounts: [],
      modelPath: modelFolder,
      servePort: 8080,
      env: { PORT: '8080', THREADS: '2', TRAINYARD_DEPLOYMENT: 'churn-v2', TRAINYARD_MODEL_URI: 'models:/churn/2', TRAINYARD_MODEL_VERSION: '2', TRAINYARD_REPLICA: '1' },
    });
    const request = jobContainerRequest(replicas[0]!, { project: 'default', gpuUuids: [], simulated: true, instanceId: 'test', folders: jobFolders(t.app.config.dataDir) });
    expect(request.command).toBeUndefined();
    expect(request.mounts).toEqual([{ hostPath: modelFolder, containerPath: '/model', readOnly: true }]);
    expect(request.ports).toEqual([8080]);
    const detail = await call('GET', '/api/v1/deployments/churn-v2');
    expect(detail.json.replicas).toEqual([
      { job: replicas[0]!.id, slot: 1, version: 2, state: 'queued', ready: false, url: null, reason: 'waiting to be placed' },
      { job: replicas[1]!.id, slot: 2, version: 2, state: 'queued', ready: false, url: null, reason: 'waiting to be placed' },
    ]);
    expect(detail.json.events[0]).toEqual({ at: t.clock.now, kind: 'state', message: `created by ${MEMBER.username} from models:/churn/2 (version 2)` });
  });

  it('follows an alias from the version it names now, with the options a custom server needs', async () => {
    const fields = { name: 'champion', model: 'models:/churn@champion', image: 'registry.local/serve:1', command: ['serve', '--port', '9000'], port: 9000, healthPath: '/v2/health/ready', readinessTimeout: '5m', public: true, gpuMemory: '10GB' };
    const { status, json } = await create(fields);
    expect(status, JSON.stringify(json)).toBe(201);
    expect(json.deployment).toMatchObject({
      model: 'models:/churn@champion',
      alias: 'champion',
      version: 2,
      image: 'registry.local/serve:1',
      command: ['serve', '--port', '9000'],
      port: 9000,
      healthPath: '/v2/health/ready',
      readinessTimeoutMs: 300_000,
      public: true,
      resources: { gpus: 0, gpuMemory: 10 * 2 ** 30 },
    });
    const id = t.app.deployments.get(member, 'champion').id;
    await untilDeployment(t.app, id, (deployment) => t.app.jobs.replicasOf(deployment.id, ['queued']).length === 1);
    expect(t.app.jobs.replicasOf(id, ['queued'])[0]).toMatchObject({ command: ['serve', '--port', '9000'], servePort: 9000, gpuMemory: 10 * 2 ** 30, env: { PORT: '9000' } });
  });

  const post = (name: string, body: unknown, status: number, message: string | RegExp, user: User = MEMBER): Scenario => ({
    name,
    method: 'POST',
    path: '/api/v1/deployments',
    headers: { Authorization: basic(user) },
    body,
    status,
    json: { message: typeof message === 'string' ? message : expect.stringMatching(message) },
  });
  const model = 'models:/churn/1';
  runScenarios(() => t, [
    post('an unknown model', { name: 'x', model: 'models:/nope/1' }, 404, 'Registered Model with name=nope not found'),
    post('an unknown version', { name: 'x', model: 'models:/churn/9' }, 404, 'Model Version (name=churn, version=9) not found'),
    post('an unknown alias', { name: 'x', model: 'models:/churn@nope' }, 404, 'Registered model alias nope not found.'),
    post('a model in a project the caller may not see', { name: 'x', model, project: 'secret' }, 404, 'Registered Model with name=churn not found', OUTSIDER),
    post('a stage instead of a version', { name: 'x', model: 'models:/churn/Production' }, 400, /^Not a model URI a deployment can serve: models:\/churn\/Production\. Use 'models:\/<model_name>\/<version>'/),
    post('latest', { name: 'x', model: 'models:/churn/latest' }, 400, /^Not a model URI a deployment can serve/),
    post('a run URI', { name: 'x', model: 'runs:/abc/model' }, 400, /^Not a model URI a deployment can serve/),
    post('a version without files', { name: 'x', model: 'models:/churn/3' }, 400, /^version 3 of model churn cannot be served: mlflow-artifacts:\/0\/[0-9a-f]{32}\/artifacts\/model holds no files on this server$/),
    post('a version kept elsewhere', { name: 'x', model: 'models:/churn/4' }, 400, 'The artifacts at s3://bucket/churn/model are not kept by this server'),
    post('a name in capitals', { name: 'Churn', model }, 400, /^name: a deployment name is 1-63 lowercase letters/),
    post('a name ending in a dash', { name: 'churn-', model }, 400, /^name: a deployment name/),
    post('a name that is too long', { name: 'a'.repeat(64), model }, 400, /^name: a deployment name/),
    post('no model', { name: 'x' }, 400, /^model: /),
    post('no replicas', { name: 'x', model, replicas: 0 }, 400, /^replicas: /),
    post('too many replicas', { name: 'x', model, replicas: 9 }, 400, /^replicas: .*8/),
    post('whole GPUs and a slice', { name: 'x', model, gpus: 1, gpuMemory: '10GB' }, 400, 'gpuMemory: ask for whole GPUs (gpus) or a slice of one GPU (gpuMemory), not both'),
    post('a health path without /', { name: 'x', model, healthPath: 'ping' }, 400, /^healthPath: healthPath must be a path starting with \//),
    post('a readiness timeout too short', { name: 'x', model, readinessTimeout: '0s' }, 400, /^readinessTimeout: readinessTimeout must be a duration from 1s to 1h/),
    post('a readiness timeout that is no duration', { name: 'x', model, readinessTimeout: 'soon' }, 400, /^readinessTimeout: /),
    post('a port out of range', { name: 'x', model, port: 70_000 }, 400, /^port: /),
    post('an image that is no reference', { name: 'x', model, image: 'Bad Image' }, 400, /^image: image must be a Docker image reference/),
    post('an environment name Trainyard sets', { name: 'x', model, env: { TRAINYARD_MODEL_VERSION: '9' } }, 400, /NVIDIA_\*, MLFLOW_\* and TRAINYARD_\* are set by Trainyard/),
    post('a command that is a string', { name: 'x', model, command: 'serve --port 1' }, 400, /^command: command must be a list of arguments/),
    post('an unknown field', { name: 'x', model, modelPath: '/etc' }, 400, 'unknown field modelPath'),
    post('a project that does not exist', { name: 'x', model, project: 'nope' }, 404, 'project "nope" does not exist'),
    post('a viewer', { name: 'x', model }, 403, 'this needs the editor role in project "default"; you are viewer', VIEWER),
    post('a name another deployment holds', { name: 'churn-v2', model }, 409, 'a deployment named "churn-v2" already exists: undeploy it first, or pick another name'),
    { ...post('a body that is not JSON', 'name=x', 415, 'send the body as application/json'), headers: { Authorization: basic(MEMBER), 'Content-Type': 'text/plain' } },
    post('a canary weight of 0', { name: 'x', model, canaryWeight: 0 }, 400, 'canaryWeight: a whole percent from 1 to 99, or null to switch all traffic at once'),
    post('a canary weight of 100', { name: 'x', model, canaryWeight: 100 }, 400, 'canaryWeight: a whole percent from 1 to 99, or null to switch all traffic at once'),
    post('a canary weight that is not whole', { name: 'x', model, canaryWeight: 20.5 }, 400, 'canaryWeight: a whole percent from 1 to 99, or null to switch all traffic at once'),
    post('a canary weight as text', { name: 'x', model, canaryWeight: '20%' }, 400, 'canaryWeight: a whole percent from 1 to 99, or null to switch all traffic at once'),
    post('a sample rate above 1', { name: 'x', model, sampleRate: 1.5 }, 400, 'sampleRate: a share of calls from 0 to 1, like 0.1'),
    post('a sample rate below 0', { name: 'x', model, sampleRate: -0.1 }, 400, 'sampleRate: a share of calls from 0 to 1, like 0.1'),
    post('a sample rate as text', { name: 'x', model, sampleRate: '10%' }, 400, 'sampleRate: a share of calls from 0 to 1, like 0.1'),
    post('a sample cap above 1MB', { name: 'x', model, sampleMaxBytes: '2MB' }, 400, 'sampleMaxBytes: at most 1048576 bytes (1MB)'),
    post('a sample cap that is no size', { name: 'x', model, sampleMaxBytes: 'lots' }, 400, 'sampleMaxBytes: sampleMaxBytes must be a size like 20GB or 512MB, got "lots"'),
  ]);
});

describe('settings: PATCH /api/v1/deployments/:name', () => {
  const patch = (name: string, body: unknown, user: User = MEMBER) => call<{ deployment: DeploymentJson; message?: string }>('PATCH', `/api/v1/deployments/${name}`, user, body);

  it('takes the settings at creation, and changes them later with an event and an audit entry; the proxy sees them at once', async () => {
    const created = await create({ name: 'tuned', model: 'models:/churn@champion', canaryWeight: 20, sampleRate: 0.1, sampleMaxBytes: '16KB' });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    expect(created.json.deployment).toMatchObject({ public: false, canaryWeight: 20, sampleRate: 0.1, sampleMaxBytes: 16 * 1024, canary: null });
    expect(t.app.deployments.target('tuned')).toMatchObject({ public: false, sampling: { rate: 0.1, maxBytes: 16 * 1024 } });

    const changed = await patch('tuned', { public: true, canaryWeight: null, sampleRate: 1, sampleMaxBytes: 1024 });
    expect(changed.status, JSON.stringify(changed.json)).toBe(200);
    expect(changed.json.deployment).toMatchObject({ public: true, canaryWeight: null, sampleRate: 1, sampleMaxBytes: 1024 });
    expect(t.app.deployments.target('tuned')).toMatchObject({ public: true, sampling: { rate: 1, maxBytes: 1024 } });
    expect((await patch('tuned', { sampleRate: 0 })).json.deployment).toMatchObject({ public: true, canaryWeight: null, sampleRate: 0, sampleMaxBytes: 1024 });
    const events = (await call('GET', '/api/v1/deployments/tuned')).json.events.map((event: { kind: string; message: string }) => `${event.kind}: ${event.message}`);
    expect(events).toEqual(
      expect.arrayContaining([
        `settings: settings changed by ${MEMBER.username}: public, no canary, samples 100% of calls (1.0 KB per body)`,
        `settings: settings changed by ${MEMBER.username}: public, no canary, no sampling`,
      ]),
    );
    expect(t.app.audit.list({ limit: 10 }).find((entry) => entry.action === 'deployment.configure')).toMatchObject({ actor: MEMBER.username, target: 'tuned', detail: { sampleRate: 0 } });
  });

  it('has no canary to promote until one takes calls', async () => {
    expect(await call('POST', '/api/v1/deployments/tuned/promote')).toMatchObject({
      status: 409,
      json: { message: 'deployment "tuned" has no canary to promote: one runs when its alias moves and canaryWeight is set' },
    });
    expect(await call('POST', '/api/v1/deployments/tuned/promote', VIEWER)).toMatchObject({ status: 403 });
  });

  it.each([
    ['nothing to change', 'tuned', {}, MEMBER, 400, 'say what to change: public, canaryWeight, sampleRate or sampleMaxBytes'],
    ['a field that cannot change', 'tuned', { replicas: 2 }, MEMBER, 400, 'unknown field replicas'],
    ['a canary weight of 100', 'tuned', { canaryWeight: 100 }, MEMBER, 400, 'canaryWeight: a whole percent from 1 to 99, or null to switch all traffic at once'],
    ['a sample rate as text', 'tuned', { sampleRate: 'all' }, MEMBER, 400, 'sampleRate: a share of calls from 0 to 1, like 0.1'],
    ['public as text', 'tuned', { public: 'yes' }, MEMBER, 400, /^public: /],
    ['a viewer', 'tuned', { public: false }, VIEWER, 403, 'this needs the editor role in project "default"; you are viewer'],
    ['someone outside the project', 'tuned', { public: false }, OUTSIDER, 404, 'no deployment named "tuned"'],
    ['a deployment that does not exist', 'nope', { public: false }, MEMBER, 404, 'no deployment named "nope"'],
  ] as const)('refuses %s', async (_name, name, body, user, status, message) => {
    const answer = await patch(name, body, user);
    expect(answer.status, JSON.stringify(answer.json)).toBe(status);
    expect(answer.json.message).toMatch(message);
  });

  it('refuses to change a deployment that ended', async () => {
    await call('DELETE', '/api/v1/deployments/tuned');
    expect(await patch('tuned', { public: false })).toMatchObject({ status: 409, json: { message: 'deployment "tuned" is not running: it was stopped' } });
  });
});

describe('reading, undeploying and rolling back', () => {
  it('lists the deployments the caller may see, of one project when asked', async () => {
    const names = async (path: string, user: User = MEMBER) => ((await call<{ deployments: DeploymentJson[] }>('GET', path, user)).json.deployments ?? []).map(({ name }) => name);
    expect(await names('/api/v1/deployments')).toEqual(['champion', 'churn-v2']);
    expect(await names('/api/v1/deployments?project=default', VIEWER)).toEqual(['champion', 'churn-v2']);
    expect(await names('/api/v1/deployments', OUTSIDER)).toEqual([]);
    expect((await call('GET', '/api/v1/deployments?project=default', OUTSIDER)).status).toBe(404);
    expect((await call('GET', '/api/v1/deployments/churn-v2', OUTSIDER)).json).toMatchObject({ message: 'no deployment named "churn-v2"' });
    expect((await call('GET', '/api/v1/deployments/nothing')).status).toBe(404);
  });

  it('gives the proxy its target: in memory, with no upstream until a replica is ready', () => {
    const id = t.app.deployments.get(member, 'champion').id;
    expect(t.app.deployments.target('champion')).toEqual({
      id,
      name: 'champion',
      projectId: t.app.projects.ensureDefault().id,
      public: true,
      version: 2,
      upstreams: [],
      canary: null,
      sampling: { rate: 0, maxBytes: 65_536 },
    });
    expect(t.app.deployments.target('churn-v2')).toMatchObject({ public: false, upstreams: [] });
    expect(t.app.deployments.target('nothing')).toBeUndefined();
    expect(id).toBeGreaterThan(0);
  });

  it('refuses a rollback with no earlier version, and one by a viewer', async () => {
    expect(await call('POST', '/api/v1/deployments/churn-v2/rollback')).toMatchObject({ status: 409, json: { message: 'deployment "churn-v2" has served no other version to roll back to' } });
    expect(await call('POST', '/api/v1/deployments/churn-v2/rollback', VIEWER)).toMatchObject({ status: 403 });
    expect(await call('DELETE', '/api/v1/deployments/churn-v2', VIEWER)).toMatchObject({ status: 403 });
  });

  it('undeploys: the replicas are cancelled, the history stays, and the name is free again', async () => {
    const id = t.app.deployments.get(member, 'churn-v2').id;
    const { status, json } = await call('DELETE', '/api/v1/deployments/churn-v2');
    expect(status).toBe(200);
    expect(json.deployment).toMatchObject({ state: 'stopped', reason: `undeployed by ${MEMBER.username}` });
    expect(t.app.deployments.target('churn-v2')).toBeUndefined();
    await untilDeployment(t.app, id, () => t.app.jobs.replicasOf(id, ['queued', 'starting', 'running']).length === 0);
    expect((await call('GET', '/api/v1/deployments/churn-v2')).json.deployment).toMatchObject({ state: 'stopped' });
    expect(await call('DELETE', '/api/v1/deployments/churn-v2')).toMatchObject({ status: 409, json: { message: 'deployment "churn-v2" is not running: it was stopped' } });
    expect(await call('POST', '/api/v1/deployments/churn-v2/rollback')).toMatchObject({ status: 409 });
    const again = await create({ name: 'churn-v2', model: 'models:/churn/1' });
    expect(again.status, JSON.stringify(again.json)).toBe(201);
    expect((await call<{ deployments: DeploymentJson[] }>('GET', '/api/v1/deployments?all=1')).json.deployments.filter(({ name }) => name === 'churn-v2').map(({ state }) => state)).toEqual(['pending', 'stopped']);
  });
});

describe("the model folder is the deployment manager's to mount", () => {
  it("refuses a user's job that mounts a folder of the artifact store, even one a replica mounts", async () => {
    const submit = (hostPath: string) => call('POST', '/api/v1/jobs', MEMBER, { command: ['true'], mounts: [{ hostPath, containerPath: '/model' }] });
    for (const hostPath of [modelFolder, t.app.artifacts.root]) {
      expect(await submit(hostPath)).toMatchObject({ status: 403, json: { message: expect.stringContaining(`does not allow host path ${hostPath}`) } });
    }
    expect(await call('POST', '/api/v1/jobs', MEMBER, { command: ['true'], modelPath: modelFolder, servePort: 8080 })).toMatchObject({ status: 400, json: { message: 'unknown fields modelPath, servePort' } });
  });
});
