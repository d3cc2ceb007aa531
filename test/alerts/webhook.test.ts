import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AlertRecord } from '../../src/alerts/alerts.ts';
import { createAlerts } from '../../src/alerts/alerts.ts';
import { createWebhookSink, type WebhookTimings } from '../../src/alerts/webhook-sink.ts';
import { capturedLog } from '../gpu/gpu-fixtures.ts';
import { createTestApp, type TestApp } from '../helpers/test-app.ts';
import { HOST, allAlerts, gpuReading, publishSample, startWebhookServer, type WebhookServer } from './alert-fixtures.ts';

const FAST: WebhookTimings = { timeoutMs: 300, attempts: 3, retryDelayMs: 10 };
/** Long enough for three attempts that each wait out FAST's timeout. */
const WAIT = { timeout: 5_000 };
const ALERT: AlertRecord = {
  id: 7,
  rule: 'disk-full',
  subject: 'data-disk',
  severity: 'critical',
  projectId: null,
  message: 'the data disk is 95.0% full',
  details: {},
  firedAt: Date.UTC(2026, 10, 22, 12),
  resolvedAt: null,
};

let webhook: WebhookServer;
let t: TestApp;

beforeAll(async () => {
  webhook = await startWebhookServer();
  t = await createTestApp();
});
afterEach(() => {
  webhook.received.length = 0;
  webhook.answers.length = 0;
});
afterAll(() => webhook.close());

/** A second evaluator on the test app's database and bus, as the app builds its own. */
const alertDeps = () => ({ db: t.app.db, bus: t.app.bus, jobs: t.app.jobs, deployments: t.app.deployments, projects: t.app.projects });

function sinkFor(url: string, timings: Partial<WebhookTimings> = FAST) {
  const { log, entries } = capturedLog();
  const sink = createWebhookSink({ url, log, timings });
  const warnings = () => entries().filter((entry) => entry.level === 40);
  return { sink, warnings, entries };
}

describe('the webhook sink', () => {
  it('retries a 5xx and a 429, then stops at the first success', async () => {
    webhook.answers.push(500, 429);
    const { sink, warnings } = sinkFor(webhook.url);
    sink.send('fired', ALERT);
    await vi.waitFor(() => expect(webhook.received).toHaveLength(3));
    await sink.close();
    expect(webhook.received.map(({ json }) => json.alert.id)).toEqual([7, 7, 7]);
    expect(warnings()).toEqual([]);
  });

  it.each([
    ['a receiver that keeps failing', [500, 500, 500], 3, 'answered 500'],
    ['a refusal, which no retry changes', [404], 1, 'answered 404'],
    ['a receiver that does not answer in time', ['hang', 'hang', 'hang'] as const, 3, 'no answer in time'],
  ])('gives up on %s with one warning that names the origin only', async (_name, answers, attempts, problem) => {
    webhook.answers.push(...answers);
    const { sink, warnings, entries } = sinkFor(webhook.url);
    sink.send('fired', ALERT);
    await vi.waitFor(() => expect(warnings()).toHaveLength(1), WAIT);
    expect(webhook.received).toHaveLength(attempts);
    expect(warnings()[0]).toMatchObject({ webhook: new URL(webhook.url).origin, alert: 7, change: 'fired', attempts, problem, msg: 'could not post an alert to the webhook' });
    expect(JSON.stringify(entries())).not.toContain('s3cr3t');
    await sink.close();
  });

  it('says why when nothing listens on the port', async () => {
    const closed = await startWebhookServer();
    await closed.close();
    const { sink, warnings } = sinkFor(closed.url);
    sink.send('resolved', ALERT);
    await vi.waitFor(() => expect(warnings()).toHaveLength(1));
    expect(warnings()[0]).toMatchObject({ problem: 'ECONNREFUSED', attempts: 3 });
    await sink.close();
  });

  it('sends in order: a resolve waits for its fire to be delivered', async () => {
    webhook.answers.push(503, 503);
    const { sink } = sinkFor(webhook.url);
    sink.send('fired', ALERT);
    sink.send('resolved', { ...ALERT, resolvedAt: ALERT.firedAt + 1 });
    await vi.waitFor(() => expect(webhook.received).toHaveLength(4));
    expect(webhook.received.map(({ json }) => json.alert.state)).toEqual(['fired', 'fired', 'fired', 'resolved']);
    await sink.close();
  });

  it('closes at once, giving up on what still waits', async () => {
    webhook.answers.push('hang', 'hang');
    const { sink } = sinkFor(webhook.url, { timeoutMs: 60_000, retryDelayMs: 60_000 });
    for (let n = 0; n < 5; n++) sink.send('fired', { ...ALERT, id: n });
    await vi.waitFor(() => expect(webhook.received).toHaveLength(1));
    const started = performance.now();
    await sink.close();
    expect(performance.now() - started).toBeLessThan(1_000);
    sink.send('fired', ALERT);
    expect(webhook.received).toHaveLength(1);
  });
});

describe('alerts with a failing webhook', () => {
  it('are recorded without waiting for it, and the rules go on being evaluated', async () => {
    webhook.answers.push('hang', 'hang', 'hang', 500, 500, 500);
    const { log, entries } = capturedLog();
    const alerts = createAlerts({ ...alertDeps(), log, config: { ...t.app.config, alertWebhookUrl: webhook.url }, webhookTimings: FAST });
    alerts.start();
    const [gpu] = (await t.app.gpus.list()).devices;
    const started = performance.now();
    publishSample(t, { gpus: [gpuReading(gpu!.uuid, 0, { temperature: 95 })] });
    expect(performance.now() - started).toBeLessThan(FAST.timeoutMs);
    publishSample(t, { host: { ...HOST, diskUsed: HOST.diskTotal } });
    expect(allAlerts(t).map((alert) => alert.rule).sort()).toEqual(['disk-full', 'gpu-temperature']);
    await vi.waitFor(() => expect(entries().filter((entry) => entry.msg === 'could not post an alert to the webhook')).toHaveLength(2), WAIT);
    expect(webhook.received).toHaveLength(6);
    await alerts.stop();
  });

  it('log a rule that fails once, and go on with the other rules', async () => {
    const { log, entries } = capturedLog();
    const broken = { live: () => { throw new Error('database is locked'); }, byId: t.app.deployments.byId, events: t.app.deployments.events };
    const alerts = createAlerts({ ...alertDeps(), log, deployments: broken, config: { ...t.app.config, alertGpuTemperature: 50 } });
    alerts.start();
    const [, gpu] = (await t.app.gpus.list()).devices;
    for (let round = 0; round < 3; round++) publishSample(t, { gpus: [gpuReading(gpu!.uuid, 1, { temperature: 60 })] });
    expect(allAlerts(t).filter((alert) => alert.subject === gpu!.uuid)).toHaveLength(1);
    const failures = entries().filter((entry) => entry.msg.startsWith('could not evaluate an alert rule'));
    expect(failures.map((entry) => entry.rule).sort()).toEqual(['deployment-degraded', 'deployment-restarting']);
    await alerts.stop();
  });
});
