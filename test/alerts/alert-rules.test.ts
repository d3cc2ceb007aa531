import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RuleName } from '../../src/alerts/alerts.ts';
import { formatTime } from '../../src/lib/format-time.ts';
import type { DeploymentRecord } from '../../src/serving/deployments.ts';
import { replicaSubmission } from '../../src/serving/replica-jobs.ts';
import { ADMIN, MEMBER, createTestApp, type TestApp } from '../helpers/test-app.ts';
import { deploy, registerVersion } from '../serving/deployment-fixtures.ts';
import { HOST, allAlerts, gpuReading, openAlerts, publishSample, submitJob } from './alert-fixtures.ts';

const MINUTE = 60_000;
let t: TestApp;
let uuids: string[];

const openOf = (rule: RuleName) => openAlerts(t).filter((alert) => alert.rule === rule);
const allOf = (rule: RuleName) => allAlerts(t).filter((alert) => alert.rule === rule);

beforeAll(async () => {
  t = await createTestApp({ alertGpuTemperature: 85, alertJobQueuedAfterMs: '1h', alertDeploymentDegradedAfterMs: '5m' });
  t.app.alerts.start();
  uuids = (await t.app.gpus.list()).devices.map((device) => device.uuid);
  await registerVersion(t.app, t.app.users.get(ADMIN.username), 'churn', { 'model.pkl': 'weights' });
});

afterAll(() => t.app.alerts.stop());

describe('a GPU over temperature', () => {
  const at = (temperature: number | null) => publishSample(t, { gpus: [gpuReading(uuids[0]!, 0, { temperature })] });

  it('fires at the limit for the whole machine, stays open within 3 °C below it, and resolves below that', () => {
    at(84);
    expect(openOf('gpu-temperature')).toEqual([]);
    at(86);
    expect(openOf('gpu-temperature')).toEqual([
      expect.objectContaining({ subject: uuids[0], severity: 'critical', projectId: null, message: 'GPU 0 (NVIDIA H100 80GB (simulated)) is at 86 °C, at or above the limit of 85 °C', details: expect.objectContaining({ temperature: 86, limit: 85 }) }),
    ]);
    for (const temperature of [83, 90, 82.5, null]) at(temperature);
    expect(allOf('gpu-temperature')).toHaveLength(1);
    expect(openOf('gpu-temperature')).toHaveLength(1);
    t.clock.advance(MINUTE);
    at(81);
    expect(openOf('gpu-temperature')).toEqual([]);
    expect(allOf('gpu-temperature')[0]!.resolvedAt).toBe(t.clock.now);
  });

  it('does not fire for a reading that only comes near the limit', () => {
    for (const temperature of [83, 84.9, 82]) at(temperature);
    expect(openOf('gpu-temperature')).toEqual([]);
  });
});

describe('the data disk', () => {
  const filled = (share: number | null) => publishSample(t, { host: share === null ? null : { ...HOST, diskUsed: share * HOST.diskTotal } });

  it('fires at 90% full, stays open down to 88%, and resolves below', () => {
    filled(0.895);
    expect(openOf('disk-full')).toEqual([]);
    filled(0.93);
    expect(openOf('disk-full')).toEqual([
      expect.objectContaining({ subject: 'data-disk', severity: 'critical', projectId: null, message: 'the data disk is 93.0% full (930.0 of 1000.0 GiB), at or above the limit of 90%' }),
    ]);
    for (const share of [0.885, null, 0.95]) filled(share);
    expect(allOf('disk-full')).toHaveLength(1);
    filled(0.5);
    expect(openOf('disk-full')).toEqual([]);
  });

  it('is left as it stands while the host cannot be read', () => {
    filled(0.99);
    filled(null);
    expect(openOf('disk-full')).toHaveLength(1);
    publishSample(t, { host: { ...HOST, diskUsed: 0, diskTotal: 0 } });
    expect(openOf('disk-full')).toHaveLength(1);
    filled(0.1);
    expect(openOf('disk-full')).toEqual([]);
  });
});

describe('a job queued too long', () => {
  it('fires an hour after it was submitted, in its project, and resolves when it leaves the queue', () => {
    const job = submitJob(t, MEMBER.username, { name: 'waits', gpus: 1 });
    const subject = `job-${job.id}`;
    t.clock.advance(59 * MINUTE);
    publishSample(t);
    expect(openOf('job-queued').filter((alert) => alert.subject === subject)).toEqual([]);
    t.clock.advance(MINUTE);
    publishSample(t);
    const [alert] = openOf('job-queued').filter((found) => found.subject === subject);
    expect(alert).toMatchObject({ severity: 'warning', projectId: job.projectId, details: { jobId: job.id, jobName: 'waits', queuedSince: job.submittedAt, reason: 'waiting to be placed' } });
    expect(alert!.message).toBe(`job ${job.id} "waits" has waited in the queue since ${formatTime(job.submittedAt)}: waiting to be placed`);

    t.app.jobs.cancel(t.app.users.get(MEMBER.username), job.id);
    publishSample(t);
    expect(openOf('job-queued').filter((found) => found.subject === subject)).toEqual([]);
  });

  it('counts a retry from the end of its back-off', () => {
    const job = submitJob(t, MEMBER.username, { name: 'retried' });
    t.app.jobs.update(job.id, { notBefore: t.clock.now + 30 * MINUTE });
    t.clock.advance(80 * MINUTE);
    publishSample(t);
    expect(openOf('job-queued').map((alert) => alert.subject)).not.toContain(`job-${job.id}`);
    t.clock.advance(10 * MINUTE);
    publishSample(t);
    expect(openOf('job-queued').map((alert) => alert.subject)).toContain(`job-${job.id}`);
    t.app.jobs.cancel(t.app.users.get(MEMBER.username), job.id);
  });
});

describe('a deployment', () => {
  let counter = 0;
  async function readyDeployment(): Promise<DeploymentRecord> {
    const deployment = await deploy(t.app, t.app.users.get(MEMBER.username), { name: `churn-${++counter}`, model: 'models:/churn/1', replicas: 2 });
    return t.app.deployments.update(deployment.id, { state: 'ready', reason: '2 of 2 replicas ready' }, { kind: 'state', message: 'ready' })!;
  }
  const degrade = (deployment: DeploymentRecord, state: 'degraded' | 'starting', reason: string) =>
    t.app.deployments.update(deployment.id, { state, reason }, { kind: 'state', message: `${state}: ${reason}` });

  it('degraded for 5 minutes fires in its project, and resolves when all its replicas are ready again', async () => {
    const deployment = await readyDeployment();
    const subject = `deployment-${deployment.id}`;
    const mine = () => openOf('deployment-degraded').filter((alert) => alert.subject === subject);
    publishSample(t);
    degrade(deployment, 'degraded', '1 of 2 replicas ready, serving version 1');
    publishSample(t);
    t.clock.advance(4 * MINUTE);
    publishSample(t);
    expect(mine()).toEqual([]);
    t.clock.advance(MINUTE);
    publishSample(t);
    expect(mine()).toEqual([
      expect.objectContaining({
        severity: 'warning',
        projectId: deployment.projectId,
        message: `deployment "${deployment.name}" has not had all its replicas ready since ${formatTime(t.clock.now - 5 * MINUTE)}: degraded, 1 of 2 replicas ready, serving version 1`,
        details: expect.objectContaining({ deploymentId: deployment.id, deployment: deployment.name, state: 'degraded' }),
      }),
    ]);
    t.app.deployments.update(deployment.id, { state: 'ready', reason: '2 of 2 replicas ready' });
    publishSample(t);
    expect(mine()).toEqual([]);
  });

  it('with no replica ready is critical, and an undeployed one resolves', async () => {
    const deployment = await readyDeployment();
    degrade(deployment, 'starting', 'waiting for replica 1 to answer GET /ping');
    publishSample(t);
    t.clock.advance(5 * MINUTE);
    publishSample(t);
    expect(openOf('deployment-degraded').filter((alert) => alert.subject === `deployment-${deployment.id}`)).toEqual([expect.objectContaining({ severity: 'critical' })]);
    t.app.deployments.undeploy({ user: t.app.users.get(MEMBER.username) }, deployment.name);
    publishSample(t);
    expect(openOf('deployment-degraded').filter((alert) => alert.subject === `deployment-${deployment.id}`)).toEqual([]);
  });

  it('that is still coming up for the first time is not degraded', async () => {
    const deployment = await deploy(t.app, t.app.users.get(MEMBER.username), { name: 'first-start', model: 'models:/churn/1' });
    degrade(deployment, 'starting', 'waiting for replica 1 to answer GET /ping');
    publishSample(t);
    t.clock.advance(30 * MINUTE);
    publishSample(t);
    expect(allOf('deployment-degraded').map((alert) => alert.subject)).not.toContain(`deployment-${deployment.id}`);
  });

  it('restarting replicas 3 times within 10 minutes is a restart loop until the restarts fall out of the window', async () => {
    const deployment = await readyDeployment();
    const mine = () => openOf('deployment-restarting').filter((alert) => alert.subject === `deployment-${deployment.id}`);
    const restart = (slot: number) => t.app.deployments.record(deployment.id, 'replica', `replica ${slot} (job 9) exited with code 1; a new one starts in 1 s`);
    restart(1);
    t.clock.advance(4 * MINUTE);
    restart(2);
    publishSample(t);
    expect(mine()).toEqual([]);
    t.clock.advance(4 * MINUTE);
    restart(1);
    publishSample(t);
    expect(mine()).toEqual([
      expect.objectContaining({
        severity: 'critical',
        projectId: deployment.projectId,
        message: `deployment "${deployment.name}" restarted replicas 3 times since ${formatTime(t.clock.now - 8 * MINUTE)}; the last: replica 1 (job 9) exited with code 1; a new one starts in 1 s`,
        details: expect.objectContaining({ restarts: 3, windowMs: 10 * MINUTE }),
      }),
    ]);
    t.clock.advance(MINUTE);
    publishSample(t);
    expect(mine()).toHaveLength(1);
    t.clock.advance(2 * MINUTE);
    publishSample(t);
    expect(mine()).toEqual([]);
  });

  it("names a replica by its deployment when the replica's GPU idles", async () => {
    const deployment = await readyDeployment();
    const replica = t.app.jobs.submitReplica(replicaSubmission(deployment, { slot: 1, version: 1, modelPath: '/tmp/model' }));
    const uuid = uuids[1]!;
    const reading = gpuReading(uuid, 1, { utilization: 0, holders: [{ unitUuid: uuid, jobId: replica.id, deploymentId: deployment.id }] });
    publishSample(t, { gpus: [reading] });
    t.clock.advance(30 * MINUTE);
    publishSample(t, { gpus: [reading] });
    expect(openOf('gpu-idle')).toEqual([
      expect.objectContaining({
        projectId: deployment.projectId,
        message: expect.stringContaining(`held by replica job ${replica.id} of deployment "${deployment.name}" has been under 5% busy`),
        details: expect.objectContaining({ jobId: replica.id, deployment: deployment.name }),
      }),
    ]);
  });
});
