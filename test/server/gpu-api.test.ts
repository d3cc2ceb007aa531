import { beforeAll, describe, expect, it } from 'vitest';
import { runScenarios } from '../helpers/scenarios.ts';
import { ADMIN, MEMBER, createTestApp, type TestApp } from '../helpers/test-app.ts';

const MEMBER_BASIC = `Basic ${Buffer.from(`${MEMBER.username}:${MEMBER.password}`).toString('base64')}`;
let simulated: TestApp;
let cpuOnly: TestApp;
beforeAll(async () => {
  [simulated, cpuOnly] = await Promise.all([createTestApp({ gpus: 'fake:2xA100-40GB,1xL4' }), createTestApp({ gpus: 'none' })]);
});

describe('GET /api/v1/gpus', () => {
  runScenarios(() => simulated, [
    { name: 'needs a credential', path: '/api/v1/gpus', status: 401, json: { error_code: 'UNAUTHENTICATED' } },
    { name: 'is read-only', method: 'POST', path: '/api/v1/gpus', headers: { Authorization: MEMBER_BASIC }, body: {}, status: 404 },
  ]);

  it('shows any signed-in user the GPUs and what they are doing', async () => {
    const [gpu] = (await simulated.app.gpus.list()).devices;
    simulated.app.gpus.setLoad(gpu!.uuid, 0.75, 8 * 1024 ** 3);
    for (const user of [MEMBER, ADMIN]) {
      const { status, text } = await simulated.get('/api/v1/gpus', user);
      expect(status).toBe(200);
      const snapshot = JSON.parse(text);
      expect(snapshot).toMatchObject({ kind: 'simulated', sampledAt: simulated.clock.now, processes: [] });
      expect(snapshot.devices.map((device: { name: string }) => device.name)).toEqual(['NVIDIA A100 40GB (simulated)', 'NVIDIA A100 40GB (simulated)', 'NVIDIA L4 24GB (simulated)']);
      expect(snapshot.devices[0]).toMatchObject({ uuid: gpu!.uuid, utilization: 0.75, memoryUsed: 8 * 1024 ** 3, migDevices: [] });
    }
  });

  it('answers an empty list on a CPU-only appliance', async () => {
    const { status, text } = await cpuOnly.get('/api/v1/gpus', MEMBER);
    expect(status).toBe(200);
    expect(JSON.parse(text)).toEqual({ kind: 'none', sampledAt: cpuOnly.clock.now, devices: [], processes: [] });
  });
});
