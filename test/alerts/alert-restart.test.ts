// A restart is a second app on the same data directory: the open alerts are taken up, neither fired again nor forgotten.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AlertRecord } from '../../src/alerts/alerts.ts';
import { createApp, type App } from '../../src/app.ts';
import { MEMBER, createTestApp, type TestApp } from '../helpers/test-app.ts';
import { allAlerts, gpuReading, publishSample, startWebhookServer, submitJob, type WebhookServer } from './alert-fixtures.ts';

const MINUTE = 60_000;
const byId = (alerts: AlertRecord[]) => alerts.toSorted((a, b) => a.id - b.id);
let t: TestApp;
let webhook: WebhookServer;
let restarted: App;

beforeAll(async () => {
  webhook = await startWebhookServer();
  t = await createTestApp({ alertWebhookUrl: webhook.url });
  t.app.alerts.start();
});

afterAll(async () => {
  await restarted?.alerts.stop();
  restarted?.close();
  await webhook.close();
});

describe('after a restart', () => {
  it('an alert still holding stays open without a second record or POST; one that stopped holding meanwhile resolves', async () => {
    const [gpu] = (await t.app.gpus.list()).devices;
    const hot = (temperature: number) => gpuReading(gpu!.uuid, 0, { temperature });
    const job = submitJob(t, MEMBER.username);
    t.clock.advance(61 * MINUTE);
    publishSample(t, { gpus: [hot(92)] });
    const before = byId(allAlerts(t));
    expect(before.map((alert) => [alert.rule, alert.resolvedAt])).toEqual([['gpu-temperature', null], ['job-queued', null]]);
    await vi.waitFor(() => expect(webhook.received).toHaveLength(2));

    await t.app.alerts.stop();
    // While the appliance is down, the job is cancelled.
    t.app.jobs.cancel(t.app.users.get(MEMBER.username), job.id);
    restarted = createApp(t.app.config, { now: () => t.clock.now });
    restarted.alerts.start();
    const changes: number[] = [];
    restarted.bus.subscribe('alert.changed', ({ alert }) => changes.push(alert.id));

    t.clock.advance(MINUTE);
    for (let round = 0; round < 3; round++) restarted.bus.publish('monitoring.sample', { at: t.clock.now, intervalMs: 5_000, gpus: [hot(91)], host: null, containers: [], skipped: [] });
    const queued = before.find((alert) => alert.rule === 'job-queued')!;
    const temperature = before.find((alert) => alert.rule === 'gpu-temperature')!;
    expect(byId(allAlerts(t))).toEqual([temperature, { ...queued, resolvedAt: t.clock.now }]);
    expect(changes).toEqual([queued.id]);

    t.clock.advance(MINUTE);
    restarted.bus.publish('monitoring.sample', { at: t.clock.now, intervalMs: 5_000, gpus: [hot(60)], host: null, containers: [], skipped: [] });
    expect(byId(allAlerts(t)).map((alert) => [alert.id, alert.resolvedAt])).toEqual([[temperature.id, t.clock.now], [queued.id, t.clock.now - MINUTE]]);
    await vi.waitFor(() => expect(webhook.received).toHaveLength(4));
    expect(webhook.received.map(({ json }) => [json.alert.id, json.alert.state])).toEqual([
      [temperature.id, 'fired'],
      [queued.id, 'fired'],
      [queued.id, 'resolved'],
      [temperature.id, 'resolved'],
    ]);
  });
});
