import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createNvidiaInventory } from '../../src/gpu/nvidia-inventory.ts';
import { createNvidiaSmiRunner } from '../../src/gpu/nvidia-smi-runner.ts';
import { createLog } from '../../src/lib/log.ts';
import type { Monitoring } from '../../src/monitoring/monitoring.ts';
import { readFixture } from '../gpu/gpu-fixtures.ts';
import { createTestApp, type TestApp } from '../helpers/test-app.ts';
import { HOST, INTERVAL_MS, fakeNvidiaSmi, monitorOf, runningJob } from './monitoring-fixtures.ts';

const SMI_TIMEOUT_MS = 300;
let t: TestApp;
let smi: ReturnType<typeof fakeNvidiaSmi>;
let monitoring: Monitoring;
let warnings: () => string[];

/** A round a little later than the last, past the window in which the inventory shares one nvidia-smi sample. */
async function round() {
  t.clock.advance(INTERVAL_MS);
  return monitoring.sampleOnce();
}

beforeAll(async () => {
  t = await createTestApp();
});

beforeEach(() => {
  smi = fakeNvidiaSmi();
  const now = () => t.clock.now;
  // The real runner and inventory, running a stand-in nvidia-smi as a process.
  const gpus = createNvidiaInventory({ run: createNvidiaSmiRunner({ binary: smi.binary, timeoutMs: SMI_TIMEOUT_MS }), log: createLog('silent'), now });
  ({ monitoring, warnings } = monitorOf(t, { gpus }));
});

afterEach(() => smi.cleanup());

describe('the sampler reading GPUs through nvidia-smi', () => {
  it('records the GPUs of a real H100 capture', async () => {
    const sample = await round();
    expect(sample.skipped).toEqual([]);
    expect(sample.gpus).toHaveLength(8);
    expect(sample.gpus[1]).toMatchObject({ uuid: 'GPU-a33f483a-0499-6e2f-9479-327f84b7c863', utilization: 1, temperature: 59, powerDraw: 631.95, memoryUsed: 19818 * 1024 ** 2 });
  });

  it('counts a job on a MIG device among the holders of its GPU', async () => {
    smi.answer({ 'query-gpu': readFixture('h100-mig-query-gpu.csv'), list: readFixture('h100-mig-list.txt'), query: readFixture('h100-mig-query.txt') });
    const job = runningJob(t, ['MIG-00000001-0000-0000-0000-000000000001']);
    const sample = await round();
    t.app.jobs.move(job.id, 'running', 'succeeded', 'done', { finishedAt: t.clock.now });
    expect(sample.gpus.find((gpu) => gpu.uuid === 'GPU-00000000-0000-0000-0000-000000000000')?.holders).toEqual([
      { unitUuid: 'MIG-00000001-0000-0000-0000-000000000001', jobId: job.id, deploymentId: null },
    ]);
  });

  it('skips the GPUs while nvidia-smi hangs, says why once, keeps the host, and takes them up again when it answers', async () => {
    await round();
    smi.hang(true);
    const hung = [];
    for (let i = 0; i < 3; i++) {
      hung.push(await round());
      // Rounds come 5 s apart: by the next one the killed nvidia-smi has been reaped.
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    for (const sample of hung) {
      expect(sample).toMatchObject({ gpus: [], host: HOST, skipped: [`GPUs: ${smi.binary} did not answer within 0.3 s`] });
    }
    expect(warnings()).toEqual([`GPUs: ${smi.binary} did not answer within 0.3 s`]);
    smi.hang(false);
    // The runner starts no nvidia-smi while the killed one has not exited yet.
    await expect.poll(async () => (await round()).gpus.length, { timeout: 5_000, interval: 50 }).toBe(8);
    const stored = monitoring.series({ subject: { kind: 'gpu', uuid: 'GPU-a33f483a-0499-6e2f-9479-327f84b7c863' }, from: hung[0]!.at - INTERVAL_MS, to: t.clock.now });
    // The hung rounds are a gap in the chart, not zeros.
    expect(stored.fields.utilization).toContain(null);
    expect(stored.fields.utilization).not.toContain(0);
  });

  it('keeps the GPUs it can read when nvidia-smi prints garbage, and names the ones it lost', async () => {
    await round();
    smi.answer({ 'query-gpu': readFixture('garbage-query-gpu.csv') });
    const sample = await round();
    expect(sample.gpus.map((gpu) => gpu.index)).toEqual([0, 4]);
    expect(sample.skipped).toEqual([1, 2, 3, 5, 6, 7].map((index) => expect.stringMatching(new RegExp(`^GPU ${index} \\(GPU-[0-9a-f-]+\\): not in this sample$`))));
  });

  it.each([
    ['disappears', () => smi.remove(), () => `GPUs: ${smi.binary} was not found (is the NVIDIA driver installed?)`],
    [
      'fails',
      () => smi.fail("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."),
      // Both queries run at once: whichever fails first is the reason.
      () => expect.stringMatching(/^GPUs: \S+ --query-(gpu|compute-apps) exited with 9: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver\.$/),
    ],
  ])('skips the GPUs when nvidia-smi %s', async (_name, breakIt, reason) => {
    await round();
    breakIt();
    const sample = await round();
    expect(sample).toMatchObject({ gpus: [], host: HOST, skipped: [reason()] });
  });
});
