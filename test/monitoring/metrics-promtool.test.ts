import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAppMetrics } from '../../src/monitoring/app-metrics.ts';
import { jobSubmissionSchema } from '../../src/scheduler/job-request.ts';
import type { DeploymentRecord } from '../../src/serving/deployments.ts';
import { createServingMetrics } from '../../src/serving/serving-metrics.ts';
import { requirePromtool } from '../helpers/environment.ts';
import { ADMIN, MEMBER, createTestApp, type TestApp } from '../helpers/test-app.ts';

const promtool = requirePromtool();
const GIB = 1024 ** 3;

/** promtool's verdict on a scrape: its exit status and everything it printed (nothing when the scrape is clean). */
function check(text: string): { status: number | null; output: string } {
  const result = spawnSync(promtool!, ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 20_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}`.trim() };
}

describe.skipIf(!promtool)('promtool check metrics', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ gpus: 'fake:6xH100,2xL4' });
    const uuids = (await t.app.gpus.list()).devices.map((device) => device.uuid);
    const member = t.app.users.get(MEMBER.username);
    const submit = (name: string, gpus: number) =>
      t.app.jobs.submit(member, jobSubmissionSchema.parse({ project: 'default', name, image: 'busybox:1', command: ['true'], gpus }));
    for (const [index, uuid] of uuids.slice(0, 3).entries()) {
      const job = submit(`train ${index}`, 1);
      t.app.jobs.move(job.id, 'queued', 'starting', 'placed', { gpuUuids: [uuid] });
      t.app.jobs.move(job.id, 'starting', 'running', 'started', { startedAt: t.clock.now });
      t.app.gpus.setLoad(uuid, 0.9, 70 * GIB);
    }
    for (let n = 0; n < 5; n++) submit(`queued ${n}`, 2);
    t.clock.advance(45_000);
    for (const path of ['/api/v1/gpus', '/api/v1/jobs/1', '/api/v1/jobs/999', '/no/such/page']) await t.get(path, ADMIN);
    await t.request('/api/2.0/mlflow/runs/get?run_id=x');
  });

  it("passes the appliance's /metrics with simulated GPUs, jobs and HTTP traffic", async () => {
    const { status, text } = await t.get('/metrics', ADMIN);
    expect(status).toBe(200);
    expect(text).toContain('trainyard_gpu_allocated_jobs{gpu="7"');
    expect(text).toContain('trainyard_jobs{state="queued"} 5');
    expect(check(text)).toEqual({ status: 0, output: '' });
  });

  it('passes per-deployment serving metrics, MIG GPUs and readings left out', async () => {
    const serving = createServingMetrics({ now: Date.now });
    for (const [status, ms] of [[200, 12], [500, 800], [0, 3]] as const) serving.record('churn-model', status, ms);
    const mig = { uuid: 'MIG-1', parentUuid: 'GPU-1', index: 1, profile: '3g.40gb', memoryTotal: 40e9, memoryUsed: 1e9, memoryFree: 39e9 };
    const snapshot = {
      kind: 'nvidia' as const,
      sampledAt: Date.now(),
      processes: [],
      devices: [{
        index: 0, uuid: 'GPU-1', name: 'NVIDIA A100-SXM4-80GB', memoryTotal: 80e9, memoryUsed: 1e9, memoryFree: 79e9,
        utilization: null, temperature: 41, powerDraw: null, powerLimit: 400, migMode: 'enabled' as const, migDevices: [mig],
      }],
    };
    const metrics = createAppMetrics({
      gpus: { list: async () => snapshot },
      jobs: { inStates: () => [] },
      deployments: { live: () => [{ name: 'churn-model' } as DeploymentRecord] },
      servingMetrics: serving,
      now: Date.now,
    });
    const text = await metrics.render();
    expect(text).toContain('trainyard_serving_request_duration_seconds_bucket{deployment="churn-model",le="+Inf"} 3');
    expect(check(text)).toEqual({ status: 0, output: '' });
  });

  it('is a real check: it refuses a counter without _total', () => {
    const verdict = check('# HELP trainyard_requests Requests.\n# TYPE trainyard_requests counter\ntrainyard_requests 1\n');
    expect(verdict.status).not.toBe(0);
    expect(verdict.output).toContain('counter metrics should have "_total" suffix');
  });
});
