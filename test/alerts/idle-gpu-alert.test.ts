// The "an idle-GPU alert fires and resolves": synthetic sampler rounds on a test app's bus, a fake clock,
// and a real HTTP server as the webhook.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MEMBER, createTestApp, type TestApp } from '../helpers/test-app.ts';
import { alertChanges, allAlerts, gpuReading, heldBy, openAlerts, publishSample, runningJob, startWebhookServer, type WebhookServer } from './alert-fixtures.ts';

const MINUTE = 60_000;
let t: TestApp;
let webhook: WebhookServer;
let uuids: string[];

beforeAll(async () => {
  webhook = await startWebhookServer();
  t = await createTestApp({ alertWebhookUrl: webhook.url, publicUrl: 'https://gpu-box.example.com' });
  t.app.alerts.start();
  uuids = (await t.app.gpus.list()).devices.map((device) => device.uuid);
});

afterAll(async () => {
  await t.app.alerts.stop();
  await webhook.close();
});

describe('a GPU allocated to a running job but idle', () => {
  it('fires once after 30 minutes under 5%, and resolves once when the job uses it again', async () => {
    const changes = alertChanges(t);
    const job = runningJob(t, MEMBER.username, [uuids[1]!]);
    const idle = () => publishSample(t, { gpus: [gpuReading(uuids[0]!, 0, { utilization: 0 }), gpuReading(uuids[1]!, 1, { utilization: 0.02, holders: heldBy(uuids[1]!, job) })] });
    const idleSince = t.clock.now;

    idle();
    t.clock.advance(29 * MINUTE);
    idle();
    expect(openAlerts(t)).toEqual([]);

    t.clock.advance(MINUTE);
    idle();
    const [alert] = openAlerts(t);
    expect(alert).toMatchObject({
      rule: 'gpu-idle',
      subject: `${uuids[1]}/job-${job.id}`,
      severity: 'warning',
      projectId: job.projectId,
      firedAt: t.clock.now,
      resolvedAt: null,
      details: { gpu: uuids[1], gpuIndex: 1, jobId: job.id, jobName: 'train', utilization: 0.02, idleSince },
    });
    expect(alert!.message).toBe(`GPU 1 (NVIDIA H100 80GB (simulated)) held by job ${job.id} "train" has been under 5% busy since 2026-11-22 12:00 UTC`);

    for (const minutes of [1, 10, 60]) {
      t.clock.advance(minutes * MINUTE);
      idle();
    }
    expect(allAlerts(t)).toHaveLength(1);

    t.clock.advance(MINUTE);
    publishSample(t, { gpus: [gpuReading(uuids[1]!, 1, { utilization: 0.6, holders: heldBy(uuids[1]!, job) })] });
    expect(allAlerts(t)).toEqual([{ ...alert, resolvedAt: t.clock.now }]);
    expect(changes.map((change) => [change.id, change.resolvedAt])).toEqual([[alert!.id, null], [alert!.id, t.clock.now]]);

    // In order, one POST each: had the repeated idle rounds fired again, a POST would come between these two.
    await vi.waitFor(() => expect(webhook.received).toHaveLength(2));
    const [fired, resolved] = webhook.received;
    expect(fired!.path).toBe('/hooks/T0001/B0002/s3cr3t-token');
    expect(fired!.headers['content-type']).toBe('application/json');
    expect(fired!.json).toEqual({
      text: `:rotating_light: Alert (warning, gpu-idle): ${alert!.message}\nhttps://gpu-box.example.com/alerts`,
      alert: {
        id: alert!.id,
        state: 'fired',
        rule: 'gpu-idle',
        subject: alert!.subject,
        severity: 'warning',
        message: alert!.message,
        details: alert!.details,
        firedAt: alert!.firedAt,
        resolvedAt: null,
        url: 'https://gpu-box.example.com/alerts',
      },
    });
    expect(resolved!.json.text).toBe(`:white_check_mark: Resolved (warning, gpu-idle): ${alert!.message}\nhttps://gpu-box.example.com/alerts`);
    expect(resolved!.json.alert).toMatchObject({ id: alert!.id, state: 'resolved', resolvedAt: t.clock.now });
  });

  it('fires anew when the GPU idles again for as long, and resolves when the job lets the GPU go', async () => {
    const job = runningJob(t, MEMBER.username, [uuids[2]!]);
    const reading = (utilization: number, holders = heldBy(uuids[2]!, job)) => gpuReading(uuids[2]!, 2, { utilization, holders });
    publishSample(t, { gpus: [reading(0)] });
    t.clock.advance(20 * MINUTE);
    publishSample(t, { gpus: [reading(0.5)] });
    t.clock.advance(20 * MINUTE);
    publishSample(t, { gpus: [reading(0)] });
    expect(openAlerts(t)).toEqual([]);

    t.clock.advance(30 * MINUTE);
    publishSample(t, { gpus: [reading(0)] });
    expect(openAlerts(t).map((alert) => alert.subject)).toEqual([`${uuids[2]}/job-${job.id}`]);

    t.clock.advance(MINUTE);
    publishSample(t, { gpus: [reading(0, [])] });
    expect(openAlerts(t)).toEqual([]);
  });

  it('is never judged on a GPU whose utilization cannot be read, nor changed by a round that missed the GPU', () => {
    const job = runningJob(t, MEMBER.username, [uuids[3]!]);
    const held = heldBy(uuids[3]!, job);
    publishSample(t, { gpus: [gpuReading(uuids[3]!, 3, { utilization: 0, holders: held })] });
    t.clock.advance(20 * MINUTE);
    // nvidia-smi answered without the utilization, then not at all: the 30 minutes go on counting.
    publishSample(t, { gpus: [gpuReading(uuids[3]!, 3, { utilization: null, holders: held })] });
    t.clock.advance(10 * MINUTE);
    publishSample(t, { gpus: [] });
    expect(openAlerts(t)).toEqual([]);
    publishSample(t, { gpus: [gpuReading(uuids[3]!, 3, { utilization: 0, holders: held })] });
    expect(openAlerts(t).map((alert) => alert.subject)).toEqual([`${uuids[3]}/job-${job.id}`]);

    t.clock.advance(MINUTE);
    publishSample(t, { gpus: [] });
    publishSample(t, { gpus: [gpuReading(uuids[3]!, 3, { utilization: null, holders: held })] });
    expect(openAlerts(t)).toHaveLength(1);
    publishSample(t, { gpus: [gpuReading(uuids[3]!, 3, { utilization: 0.3, holders: held })] });
    expect(openAlerts(t)).toEqual([]);
  });
});
