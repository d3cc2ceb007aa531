// The appliance starts the rules with the rest: a sampler round on its bus is evaluated, recorded and POSTed.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startAppliance, type Appliance } from '../../src/appliance.ts';
import { loadConfig } from '../../src/config.ts';
import { gpuReading, startWebhookServer, type WebhookServer } from './alert-fixtures.ts';

const ADMIN = { username: 'admin', password: 'alerts-admin-pw' };
let appliance: Appliance;
let webhook: WebhookServer;

beforeAll(async () => {
  webhook = await startWebhookServer();
  const dataDir = mkdtempSync(join(tmpdir(), 'trainyard-alerts-'));
  appliance = await startAppliance(
    loadConfig({ dataDir, port: 0, logLevel: 'silent', adminPassword: ADMIN.password, gpus: 'fake:1xH100', alertWebhookUrl: webhook.url }, {}),
  );
});
afterAll(async () => {
  await appliance?.close();
  await webhook.close();
});

describe('the appliance', () => {
  it('evaluates the alert rules on each sampler round from the start', async () => {
    const { app } = appliance;
    const [gpu] = (await app.gpus.list()).devices;
    app.bus.publish('monitoring.sample', { at: app.now(), intervalMs: 5_000, gpus: [gpuReading(gpu!.uuid, 0, { temperature: 99 })], host: null, containers: [], skipped: [] });
    await vi.waitFor(() => expect(webhook.received.map(({ json }) => [json.alert.rule, json.alert.state])).toContainEqual(['gpu-temperature', 'fired']));
    const response = await fetch(`${appliance.url}/api/v1/alerts?state=all`, { headers: { Authorization: `Basic ${Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString('base64')}` } });
    const { alerts } = (await response.json()) as { alerts: Array<{ rule: string; details: { temperature: number } }> };
    expect(alerts).toContainEqual(expect.objectContaining({ rule: 'gpu-temperature', details: expect.objectContaining({ temperature: 99 }) }));
  });
});
