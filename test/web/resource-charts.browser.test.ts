// Live resource charts in a real browser, with simulated GPUs: Chromium opens the GPU page, the test takes sampler
// rounds, and each GPU's uPlot chart grows by the points pushed over the live channel while its reading follows the
// load; the board names who holds a GPU and what it uses; the host page charts the machine the same way.
// The test alone takes the rounds and sets the GPUs' loads: the sampler's timer and the scheduler (which shows its
// own jobs' loads on simulated GPUs) are stopped, and the appliance's clock moves one interval per round.
// Screenshots land in test-results/ for a human to look at.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppliance, type Appliance } from '../../src/appliance.ts';
import { loadConfig } from '../../src/config.ts';
import { jobSubmissionSchema } from '../../src/scheduler/job-request.ts';
import { openBrowserPage, signInPage, type BrowserPage } from '../helpers/browser.ts';
import { requireChromium } from '../helpers/environment.ts';

const chromium = requireChromium();

const ADMIN = { username: 'admin', password: 'correct-horse-9' };
const GIB = 1024 ** 3;

describe.skipIf(!chromium)('resource charts in a browser', () => {
  let dataDir: string;
  let appliance: Appliance;
  let browser: BrowserPage;
  let page: Page;
  let gpus: string[];
  let shift = 0;

  /** Rounds one sampling interval apart on the appliance's clock. */
  const rounds = async (count: number) => {
    for (let round = 0; round < count; round++) {
      shift += appliance.app.config.sampleIntervalMs;
      await appliance.app.monitoring.sampleOnce();
    }
  };
  const chart = (subject: string, nth = 0) => page.locator(`[data-resource-chart*='"subject":"${subject}"']`).nth(nth);
  const pointsOf = async (subject: string, nth = 0) => Number((await chart(subject, nth).getAttribute('data-points')) ?? -1);
  const readingOf = (subject: string, nth = 0) => chart(subject, nth).locator('.chart-reading').textContent();

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'trainyard-charts-browser-'));
    const config = loadConfig({ dataDir, port: 0, host: '127.0.0.1', logLevel: 'silent', adminPassword: ADMIN.password, gpus: 'fake:4xH100-80GB' }, {});
    appliance = await startAppliance(config, { now: () => Date.now() + shift });
    await Promise.all([appliance.app.monitoring.stop(), appliance.app.scheduler.stop()]);
    gpus = (await appliance.app.gpus.list()).devices.map((device) => device.uuid);
    browser = await openBrowserPage(chromium!);
    page = browser.page;
  });

  afterAll(async () => {
    await browser?.browser.close();
    await appliance?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('draws a chart per GPU from the last hour', async () => {
    // A job holds GPU 0 and works it harder each round.
    const admin = appliance.app.users.get(ADMIN.username);
    const job = appliance.app.jobs.submit(admin, jobSubmissionSchema.parse({ name: 'resnet', image: 'busybox:1', command: ['true'], gpus: 1 }));
    appliance.app.jobs.move(job.id, 'queued', 'starting', 'placed', { gpuUuids: [gpus[0]!] });
    appliance.app.jobs.move(job.id, 'starting', 'running', 'started', { startedAt: Date.now() });
    for (const load of [0.1, 0.3, 0.5]) {
      appliance.app.gpus.setLoad(gpus[0]!, load, Math.round(load * 80 * GIB));
      appliance.app.gpus.setLoad(gpus[2]!, load / 2, 4 * GIB);
      await rounds(1);
    }

    await signInPage(page, appliance.url, ADMIN);
    await page.locator('.nav').getByRole('link', { name: 'GPUs' }).click();
    await page.locator('#live-dot.on').waitFor();
    await expect.poll(() => page.locator('[data-resource-chart] canvas').count()).toBe(4);
    expect(await pointsOf(`gpu:${gpus[0]}`)).toBe(3);
    expect(await readingOf(`gpu:${gpus[0]}`)).toContain('Utilization 50%');
    expect(await page.locator('#gpu-charts .u-legend').first().textContent()).toMatch(/Utilization[\s\S]*Memory[\s\S]*Temperature[\s\S]*Power/);
  });

  it('grows each chart with the points the live channel pushes, without a reload', async () => {
    await page.evaluate(`document.body.dataset.loadedOnce = 'yes'`);
    const before = await pointsOf(`gpu:${gpus[0]}`);
    appliance.app.gpus.setLoad(gpus[0]!, 0.9, 72 * GIB);
    await rounds(2);
    await expect.poll(() => pointsOf(`gpu:${gpus[0]}`)).toBe(before + 2);
    await expect.poll(() => readingOf(`gpu:${gpus[0]}`)).toContain('Utilization 90%');
    expect(await readingOf(`gpu:${gpus[0]}`)).toContain('Memory 90%');
    expect(await pointsOf(`gpu:${gpus[3]}`)).toBe(before + 2);
    expect(await page.evaluate<string>(`document.body.dataset.loadedOnce`)).toBe('yes');
  });

  it('names the holder on the board with what it really uses, and the charts outlive the board refresh', async () => {
    const usage = page.locator(`#gpu-${gpus[0]} .holder-usage`);
    await expect.poll(() => usage.textContent(), { timeout: 6_000 }).toContain('uses 90% busy · 72.0 GB held');
    expect(await page.locator(`#gpu-${gpus[0]} .holders a`).first().getAttribute('href')).toMatch(/^\/jobs\/\d+$/);
    const points = await pointsOf(`gpu:${gpus[0]}`);
    await rounds(1);
    await expect.poll(() => pointsOf(`gpu:${gpus[0]}`)).toBe(points + 1);
    const shot = await browser.shot('gpu-charts.png');
    expect(shot.length).toBeGreaterThan(10_000);
    expect(browser.pageErrors).toEqual([]);
    expect(browser.failedResponses).toEqual([]);
  });

  it('charts the host the same way', async () => {
    await page.locator('.nav').getByRole('link', { name: 'Host' }).click();
    await page.locator('#live-dot.on').waitFor();
    await expect.poll(() => page.locator('#host-charts canvas').count()).toBe(3);
    const before = await pointsOf('host');
    await rounds(2);
    await expect.poll(() => pointsOf('host')).toBe(before + 2);
    for (const nth of [0, 1, 2]) expect(await pointsOf('host', nth)).toBe(await pointsOf('host'));
    expect(await readingOf('host')).toMatch(/CPU \d+% · Load \(1 min\) [\d.]+/);
    expect(await readingOf('host', 1)).toMatch(/Memory \d+% · Data disk \d+%/);
    await browser.shot('host-charts.png');
    expect(browser.pageErrors).toEqual([]);
    expect(browser.failedResponses).toEqual([]);
  });
});
