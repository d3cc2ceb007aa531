// Rollouts on the real engine, under a steady stream of calls through the real proxy (/serve/<name>/...): a moved
// alias and a rollback switch versions without a failed call; a version that never gets ready leaves the old serving.
import { setTimeout as sleep } from 'node:timers/promises';
import type Dockerode from 'dockerode';
import { beforeAll, describe, expect, it } from 'vitest';
import { requireDocker } from '../helpers/environment.ts';
import type { SchedulerWorld } from '../scheduler/scheduler-fixtures.ts';
import { deploy, predictThrough, registerVersion, setAlias, startIrisWorld, steadyLoad as loadOf, untilDeployment } from './deployment-fixtures.ts';

// Throws in CI when no engine answers (the file fails); undefined locally (the file skips).
const docker = await requireDocker();

const CONCURRENCY = 4;

interface LoadResult {
  total: number;
  failures: Array<{ status: number; body: string }>;
  /** The prediction for the row [0, 5] of each call, in the order the calls started. */
  answers: string[];
}

describe.skipIf(!docker)('rollouts under load through the proxy', () => {
  let w: SchedulerWorld;
  let base: string;
  let token: string;

  /** CONCURRENCY callers, each sending its next call as soon as the last one answered, until stopped. */
  function steadyLoad(name: string): { stop(): Promise<LoadResult> } {
    const load = loadOf(() => predictThrough(base, name, token), CONCURRENCY);
    return {
      async stop() {
        const outcomes = await load.stop();
        const answered = outcomes.filter(({ status }) => status === 200);
        const failures = outcomes.filter(({ status }) => status !== 200).map(({ status, answer }) => ({ status, body: answer }));
        return { total: outcomes.length, failures, answers: answered.map(({ answer }) => answer) };
      },
    };
  }

  const replicaVersions = (id: number) => w.app.jobs.replicasOf(id, ['queued', 'starting', 'running']).map((job) => Number(job.env.TRAINYARD_MODEL_VERSION));
  const messages = (id: number) => w.app.deployments.events(id, 1000).map((event) => event.message);

  beforeAll(async () => {
    const world = await startIrisWorld(docker as Dockerode);
    ({ w, url: base, token } = world);
    // Files, but no model: the scoring server answers /ping with 503 for ever.
    await registerVersion(w.app, w.admin, 'iris', { 'README.md': 'weights to come\n' });
    return world.close;
  }, 120_000);

  it('rolls out the version an alias moves to, then back on a rollback, without one failed call', async () => {
    setAlias(w.app, w.admin, 'iris', 'champion', 1);
    const created = await deploy(w.app, w.admin, { name: 'champion', model: 'models:/iris@champion', replicas: 2 });
    await untilDeployment(w.app, created.id, 'ready');

    const forward = steadyLoad('champion');
    await sleep(500);
    const movedAt = performance.now();
    setAlias(w.app, w.admin, 'iris', 'champion', 2);
    await untilDeployment(w.app, created.id, (deployment) => deployment.version === 2 && deployment.state === 'ready' && replicaVersions(created.id).every((version) => version === 2));
    const rolloutMs = performance.now() - movedAt;
    await sleep(300);
    const first = await forward.stop();
    expect(first.failures).toEqual([]);
    expect(first.answers).toContain('low');
    expect(first.answers.slice(-CONCURRENCY * 4)).toEqual(Array(CONCURRENCY * 4).fill('LOW'));
    expect(w.app.deployments.byId(created.id)).toMatchObject({ version: 2, previousVersion: 1, aliasVersion: 2 });
    expect(messages(created.id)).toEqual(
      expect.arrayContaining([
        'rolling out version 2 (alias champion moved from version 1 to 2): 2 new replicas, then traffic moves',
        'switched traffic from version 1 to version 2 (alias champion moved from version 1 to 2)',
      ]),
    );

    const backward = steadyLoad('champion');
    await sleep(500);
    const response = await w.t.request('/api/v1/deployments/champion/rollback', { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
    expect(response.status).toBe(202);
    expect(((await response.json()) as { deployment: { rollout: number } }).deployment.rollout).toBe(1);
    await untilDeployment(w.app, created.id, (deployment) => deployment.version === 1 && deployment.state === 'ready' && replicaVersions(created.id).every((version) => version === 1));
    await sleep(300);
    const second = await backward.stop();
    expect(second.failures).toEqual([]);
    expect(second.answers.slice(-CONCURRENCY * 4)).toEqual(Array(CONCURRENCY * 4).fill('low'));
    expect(messages(created.id)).toContain(`switched traffic from version 2 to version 1 (rollback asked by ${w.admin.username})`);
    // The alias still names version 2: the rollback holds until the alias moves again.
    await sleep(1_000);
    expect(w.app.deployments.byId(created.id)).toMatchObject({ version: 1, previousVersion: 2, aliasVersion: 2 });
    console.info(
      `alias moved to switched and old replicas stopped: ${Math.round(rolloutMs)} ms; calls during the rollout: ${first.total}, failed: ${first.failures.length}; during the rollback: ${second.total}, failed: ${second.failures.length}`,
    );
    w.app.deployments.undeploy({ user: w.admin }, 'champion');
  }, 120_000);

  it('keeps the serving version when the version an alias moves to never gets ready', async () => {
    setAlias(w.app, w.admin, 'iris', 'canary', 1);
    const created = await deploy(w.app, w.admin, { name: 'canary', model: 'models:/iris@canary', readinessTimeout: 10 });
    await untilDeployment(w.app, created.id, 'ready');
    const load = steadyLoad('canary');
    setAlias(w.app, w.admin, 'iris', 'canary', 3);
    await untilDeployment(w.app, created.id, () => messages(created.id).some((message) => message.startsWith('rollout of version 3 failed')), 30_000);
    await untilDeployment(w.app, created.id, () => replicaVersions(created.id).every((version) => version === 1));
    const result = await load.stop();
    expect(result.failures).toEqual([]);
    expect(new Set(result.answers)).toEqual(new Set(['low']));
    expect(messages(created.id).find((message) => message.startsWith('rollout of version 3 failed'))).toMatch(
      /^rollout of version 3 failed: replica 1 \(job \d+\) was not ready within 10 s \(GET \/ping: answered 503\); its last log lines:\n[^]*; version 1 keeps serving$/,
    );
    expect(w.app.deployments.byId(created.id)).toMatchObject({ state: 'ready', version: 1, aliasVersion: 3 });
  }, 90_000);
});
