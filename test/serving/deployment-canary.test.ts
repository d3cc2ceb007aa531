// A canary on the real engine, called through the real proxy with a deployment token: when the alias moves, the new
// version takes its weight's share of the calls until promoted (all calls) or rolled back (none); sampled calls say
// which version answered them.
import { setTimeout as sleep } from 'node:timers/promises';
import type Dockerode from 'dockerode';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DeploymentJson } from '../../src/serving/deployment-json.ts';
import type { RequestSampleJson } from '../../src/serving/request-samples.ts';
import { requireDocker } from '../helpers/environment.ts';
import type { SchedulerWorld } from '../scheduler/scheduler-fixtures.ts';
import { deploy, predictThrough, setAlias, startIrisWorld, steadyLoad, untilDeployment, type Prediction } from './deployment-fixtures.ts';

// Throws in CI when no engine answers (the file fails); undefined locally (the file skips).
const docker = await requireDocker();

const CONCURRENCY = 4;
const CALLS = 400;
const WEIGHT = 20;

describe.skipIf(!docker)('a canary through the proxy', () => {
  let w: SchedulerWorld;
  let base: string;
  /** The admin's own token, for the API. */
  let own: string;
  /** A token that may call deployment "ab" only. */
  let scoped: string;

  const api = async <T = Record<string, any>>(method: string, path: string, body?: unknown) => {
    const response = await w.t.request(path, {
      method,
      headers: { Authorization: `Bearer ${own}`, ...(body !== undefined && { 'Content-Type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return { status: response.status, json: (await response.json()) as T };
  };

  /** A call to "ab" with its deployment token: "low" from version 1, "LOW" from version 2. */
  const predict = () => predictThrough(base, 'ab', scoped);
  const failuresOf = (outcomes: Prediction[]) => outcomes.filter(({ status }) => status !== 200).map(({ status, answer }) => `${status}: ${answer}`);

  /** `total` calls, CONCURRENCY at a time: how many each answer got, and the failures. */
  async function calls(total: number): Promise<{ answers: Record<string, number>; failures: string[] }> {
    const outcomes: Prediction[] = [];
    const caller = async () => {
      while (outcomes.length < total) {
        const index = outcomes.push({ status: 0, answer: 'pending' }) - 1;
        outcomes[index] = await predict();
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, caller));
    const answers: Record<string, number> = {};
    for (const { status, answer } of outcomes) if (status === 200) answers[answer] = (answers[answer] ?? 0) + 1;
    return { answers, failures: failuresOf(outcomes) };
  }

  const messages = (id: number) => w.app.deployments.events(id, 1000).map((event) => event.message);
  const replicaVersions = (id: number) => w.app.jobs.replicasOf(id, ['queued', 'starting', 'running']).map((job) => Number(job.env.TRAINYARD_MODEL_VERSION));
  const canaryReady = (id: number, version: number) => () => w.app.deployments.status(id).canary?.version === version && w.app.deployments.status(id).canary!.upstreams.length === 1;

  beforeAll(async () => {
    const world = await startIrisWorld(docker as Dockerode);
    ({ w, url: base, token: own } = world);
    return world.close;
  }, 120_000);

  it('sends the canary its share, then all calls once promoted, and none once a later canary is rolled back', async () => {
    setAlias(w.app, w.admin, 'iris', 'live', 1);
    const created = await deploy(w.app, w.admin, { name: 'ab', model: 'models:/iris@live', canaryWeight: WEIGHT, sampleRate: 1 });
    await untilDeployment(w.app, created.id, 'ready');
    const made = await api<{ token: string }>('POST', '/api/v1/deployments/ab/tokens', { name: 'load' });
    expect(made.status).toBe(201);
    scoped = made.json.token;
    // The deployment's token reaches the replica in its container through the proxy; the API stays closed to it.
    expect(await predict()).toEqual({ status: 200, answer: 'low' });
    expect((await w.t.request('/api/v1/deployments/ab', { headers: { Authorization: `Bearer ${scoped}` } })).status).toBe(403);

    setAlias(w.app, w.admin, 'iris', 'live', 2);
    await untilDeployment(w.app, created.id, canaryReady(created.id, 2), 60_000);
    expect(messages(created.id)).toEqual(
      expect.arrayContaining([
        'rolling out version 2 (alias live moved from version 1 to 2): 1 new replica, then it takes 20% of the calls as a canary',
        'version 2 takes 20% of the calls as a canary (alias live moved from version 1 to 2): promote it or roll it back',
      ]),
    );
    expect((await api<{ deployment: DeploymentJson }>('GET', '/api/v1/deployments/ab')).json.deployment).toMatchObject({ version: 1, rollout: 2, canary: { version: 2, weight: 20, readyReplicas: 1 } });

    const split = await calls(CALLS);
    expect(split.failures).toEqual([]);
    // Binomial(400, 0.2): 80 ± 8; the band is over 3.5 standard deviations wide on each side.
    expect(split.answers.LOW).toBeGreaterThanOrEqual(50);
    expect(split.answers.LOW).toBeLessThanOrEqual(110);
    expect(split.answers.low! + split.answers.LOW!).toBe(CALLS);
    // Every call was sampled, under the version that answered it.
    const samples = (await api<{ samples: RequestSampleJson[] }>('GET', '/api/v1/deployments/ab/samples?limit=1000')).json.samples;
    const sampledVersions = samples.reduce<Record<number, number>>((counts, sample) => ({ ...counts, [sample.version]: (counts[sample.version] ?? 0) + 1 }), {});
    expect(sampledVersions).toEqual({ 1: split.answers.low! + 1, 2: split.answers.LOW });
    expect(samples.filter((sample) => sample.version === 2).every((sample) => sample.response.body.includes('LOW'))).toBe(true);
    console.info(`canary at ${WEIGHT}%: ${split.answers.LOW} of ${CALLS} calls reached version 2`);

    const promoting = steadyLoad(predict, CONCURRENCY);
    await sleep(300);
    const promoted = await api<{ deployment: DeploymentJson }>('POST', '/api/v1/deployments/ab/promote');
    expect(promoted.status).toBe(202);
    await untilDeployment(w.app, created.id, (deployment) => deployment.version === 2 && replicaVersions(created.id).every((version) => version === 2), 30_000);
    expect(failuresOf(await promoting.stop())).toEqual([]);
    const after = await calls(40);
    expect(after.answers).toEqual({ LOW: 40 });
    expect(messages(created.id)).toEqual(
      expect.arrayContaining([
        `promotion of the canary (version 2) asked by ${w.admin.username}`,
        `switched traffic from version 1 to version 2 (alias live moved from version 1 to 2, canary promoted by ${w.admin.username})`,
      ]),
    );
    expect(w.app.deployments.byId(created.id)).toMatchObject({ version: 2, previousVersion: 1, aliasVersion: 2 });

    setAlias(w.app, w.admin, 'iris', 'live', 1);
    await untilDeployment(w.app, created.id, canaryReady(created.id, 1), 60_000);
    expect((await calls(100)).answers.low).toBeGreaterThan(0);
    const rollingBack = steadyLoad(predict, CONCURRENCY);
    const rolledBack = await api<{ deployment: DeploymentJson }>('POST', '/api/v1/deployments/ab/rollback');
    expect(rolledBack).toMatchObject({ status: 202, json: { deployment: { canary: { version: 1 } } } });
    await untilDeployment(w.app, created.id, () => w.app.deployments.status(created.id).rollout === null && replicaVersions(created.id).every((version) => version === 2), 30_000);
    expect(failuresOf(await rollingBack.stop())).toEqual([]);
    expect((await calls(40)).answers).toEqual({ LOW: 40 });
    expect(messages(created.id)).toContain(`canary of version 1 rolled back by ${w.admin.username}: version 2 takes all calls again`);
    // The alias still names version 1: the canary is not tried again until the alias moves.
    await sleep(1_000);
    expect(w.app.deployments.byId(created.id)).toMatchObject({ version: 2, aliasVersion: 1 });
    expect(w.app.deployments.status(created.id).rollout).toBeNull();
    expect((await api('POST', '/api/v1/deployments/ab/promote')).status).toBe(409);
    w.app.deployments.undeploy({ user: w.admin }, 'ab');
  }, 180_000);
});
