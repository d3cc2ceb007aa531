// Deployments on the real engine: replicas are scheduler jobs in the serving image, probed, replaced when they die.
import type Dockerode from 'dockerode';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DeploymentManager } from '../../src/serving/deployment-manager.ts';
import { requireDocker } from '../helpers/environment.ts';
import { requireImage } from '../runtime/runtime-fixtures.ts';
import { createSchedulerWorld, type SchedulerWorld } from '../scheduler/scheduler-fixtures.ts';
import { deploy, invoke, managerFor, registerVersion, SERVE_IMAGE, trainModels, untilDeployment } from './deployment-fixtures.ts';

// Throws in CI when no engine answers (the file fails); undefined locally (the file skips).
const docker = await requireDocker();

describe.skipIf(!docker)('deployments on the engine', () => {
  const engine = docker as Dockerode;
  let w: SchedulerWorld;
  let manager: DeploymentManager;
  const replicaJob = (id: number) => w.app.jobs.replicasOf(id, ['running'])[0]!;

  beforeAll(async () => {
    await requireImage(engine, SERVE_IMAGE);
    w = await createSchedulerWorld(engine);
    const { v1 } = await trainModels(w.app);
    await registerVersion(w.app, w.admin, 'iris', { 'model.pkl': v1 });
    manager = managerFor(w.app);
    await manager.start();
    return async () => {
      await manager.stop();
      await w.close();
    };
  }, 120_000);

  it('is ready once its replica answers /ping; the proxy target lists it and it predicts; a killed container is replaced', async () => {
    const started = performance.now();
    const created = await deploy(w.app, w.admin, { name: 'iris', model: 'models:/iris/1' });
    const ready = await untilDeployment(w.app, created.id, 'ready');
    const readyMs = performance.now() - started;
    expect(ready.reason).toBe('1 of 1 replica ready, serving version 1');
    expect(ready.readyAt).not.toBeNull();

    const job = replicaJob(created.id);
    const { Mounts: mounts, HostConfig: host } = await engine.getContainer(job.containerId!).inspect();
    expect(mounts.filter((mount) => mount.Destination === '/model')).toEqual([expect.objectContaining({ Type: 'bind', Source: job.modelPath, RW: false })]);
    expect(host.PortBindings).toEqual({ '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] });
    const { upstreams } = w.app.deployments.target('iris')!;
    expect(upstreams).toEqual([expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/)]);
    expect(await invoke(upstreams[0]!)).toEqual({ status: 200, body: { predictions: ['low', 'high'] } });

    const killedAt = performance.now();
    await engine.getContainer(job.containerId!).kill();
    const again = await untilDeployment(w.app, created.id, (deployment) => deployment.state === 'ready' && replicaJob(created.id)?.id !== job.id && w.app.deployments.target('iris')!.upstreams.length === 1);
    const restartMs = performance.now() - killedAt;
    expect(again.version).toBe(1);
    expect(w.app.jobs.byId(job.id)).toMatchObject({ state: 'failed', reason: 'exit code 137' });
    expect(await invoke(w.app.deployments.target('iris')!.upstreams[0]!)).toMatchObject({ status: 200, body: { predictions: ['low', 'high'] } });
    const messages = w.app.deployments.events(created.id).map((event) => event.message);
    expect(messages).toContain(`replica 1 (job ${job.id}) failed: exit code 137; a new one starts in 0.5 s`);
    expect(messages.filter((message) => message.startsWith('ready:'))).toHaveLength(2);
    console.info(`deploy to ready: ${Math.round(readyMs)} ms; kill to ready again: ${Math.round(restartMs)} ms`);

    // An appliance restart: a new manager probes the running replica again and serves it, without starting another.
    const serving = replicaJob(created.id);
    await manager.stop();
    manager = managerFor(w.app);
    await manager.start();
    await untilDeployment(w.app, created.id, (deployment) => deployment.state === 'ready' && w.app.deployments.status(created.id).replicas.some((replica) => replica.ready));
    expect(w.app.jobs.replicasOf(created.id, ['queued', 'starting', 'running']).map((current) => current.id)).toEqual([serving.id]);
    expect(await invoke(w.app.deployments.target('iris')!.upstreams[0]!)).toMatchObject({ status: 200 });

    w.app.deployments.undeploy({ user: w.admin }, 'iris');
    await untilDeployment(w.app, created.id, () => w.app.jobs.replicasOf(created.id, ['queued', 'starting', 'running']).length === 0, 20_000);
    expect(w.app.deployments.target('iris')).toBeUndefined();
  }, 90_000);

  it('replaces a replica that fails its liveness probe three times in a row', async () => {
    const flaky = [
      'import http.server, os, time',
      'start = time.time()',
      'class Health(http.server.BaseHTTPRequestHandler):',
      '    def do_GET(self):',
      '        self.send_response(200 if time.time() - start < 2 else 503)',
      '        self.end_headers()',
      'http.server.HTTPServer(("", int(os.environ["PORT"])), Health).serve_forever()',
    ].join('\n');
    const created = await deploy(w.app, w.admin, { name: 'flaky', model: 'models:/iris/1', command: ['python3', '-c', flaky] });
    const first = replicaJob((await untilDeployment(w.app, created.id, 'ready')).id);
    await untilDeployment(w.app, created.id, () => w.app.jobs.replicasOf(created.id, ['queued', 'starting', 'running']).some((job) => job.id !== first.id), 30_000);
    expect(w.app.jobs.byId(first.id)).toMatchObject({ state: 'cancelled' });
    expect(w.app.deployments.events(created.id).map((event) => event.message)).toContain(
      `replica 1 (job ${first.id}) failed 3 liveness probes in a row (GET /ping: answered 503); a new one starts in 0.5 s`,
    );
    w.app.deployments.undeploy({ user: w.admin }, 'flaky');
  }, 60_000);

  it.each([
    {
      name: 'a container that never answers its health path',
      fields: { command: ['python3', '-c', 'print("loading the weights", flush=True); import time; time.sleep(600)'], readinessTimeout: 2 },
      reason: /^replica 1 \(job \d+\) was not ready within 2 s \(GET \/ping: (the connection closed without an answer|ECONNREFUSED)\); its last log lines:\nloading the weights$/,
    },
    {
      name: 'a container that exits while it starts',
      fields: { command: ['python3', '-c', 'import sys; print("no GPU found", file=sys.stderr); sys.exit(3)'] },
      reason: /^replica 1 \(job \d+\) failed: exit code 3; its last log lines:\nno GPU found$/,
    },
    {
      name: 'an image the engine does not have',
      fields: { image: 'trainyard-test/no-such-image:1' },
      reason: /^replica 1 \(job \d+\) failed: image "trainyard-test\/no-such-image:1" is not on the Docker engine/,
    },
  ])('fails a deployment with $name, with the reason and its last log lines, and cancels its replica', async ({ fields, reason }) => {
    const name = `broken-${Math.random().toString(36).slice(2, 8)}`;
    const created = await deploy(w.app, w.admin, { name, model: 'models:/iris/1', ...fields });
    const failed = await untilDeployment(w.app, created.id, 'failed', 30_000);
    expect(failed.reason).toMatch(reason);
    expect(w.app.deployments.target(name)).toBeUndefined();
    await untilDeployment(w.app, created.id, () => w.app.jobs.replicasOf(created.id, ['queued', 'starting', 'running']).length === 0, 20_000);
    expect(w.app.deployments.events(created.id).at(-1)).toMatchObject({ kind: 'state', message: `failed: ${failed.reason}` });
  });
});
