// Jobs and GPUs in a real browser, with the appliance's own scheduler running jobs on the real engine (simulated
// GPUs): Chromium submits a job through the form on /jobs, watches it start in the queue, follows the job's page
// while its container prints and finishes (state, GPUs and log lines arriving over the live channel, no reload),
// sees which GPU it holds on the GPU board, and cancels a job that waits for GPUs.
// Screenshots land in test-results/ for a human to look at.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppliance, type Appliance } from '../../src/appliance.ts';
import { loadConfig } from '../../src/config.ts';
import { readInstanceId } from '../../src/scheduler/instance-id.ts';
import { jobSubmissionSchema } from '../../src/scheduler/job-request.ts';
import { openBrowserPage, signInPage, type BrowserPage } from '../helpers/browser.ts';
import { requireChromium, requireDocker } from '../helpers/environment.ts';
import { removeInstanceContainers, requireImage, TEST_IMAGE } from '../runtime/runtime-fixtures.ts';

const chromium = requireChromium();
const docker = await requireDocker();

const ADMIN = { username: 'admin', password: 'correct-horse-9' };
/** The job waits for the test to write /outputs/<name> (the job's output folder on the host) before each phase. */
const awaitSignal = (name: string) => `until [ -f /outputs/${name} ]; do sleep 0.05; done`;
const SCRIPT = [
  'echo epoch 1 loss 0.52',
  'echo low disk space >&2',
  'echo epoch 2 loss 0.31',
  awaitSignal('steps'),
  'i=0; while [ $i -lt 120 ]; do echo "step $i"; i=$((i + 1)); done',
  awaitSignal('late'),
  'echo while you were reading',
  awaitSignal('finish'),
  'echo saved model.pt',
].join('; ');
const COMMAND = ['sh', '-c', SCRIPT];

describe.skipIf(!chromium || !docker)('jobs and GPUs in a browser', () => {
  let dataDir: string;
  let appliance: Appliance;
  let browser: BrowserPage;
  let page: Page;
  let jobId: number;
  let heldGpu: string;

  const url = (path: string) => appliance.url + path;
  const shot = (name: string) => browser.shot(name);
  const signal = (id: number, name: string) => writeFileSync(join(dataDir, 'outputs', String(id), name), '');
  /** Marks the document: finding the mark later proves that what changed arrived in place, without a reload. */
  const markDocument = () => page.evaluate(`document.body.dataset.loadedOnce = 'yes'`);
  const stillSameDocument = () => page.evaluate<string>(`document.body.dataset.loadedOnce`);
  const liveChannelOpen = () => page.locator('#live-dot.on').waitFor();
  const logLines = () => page.locator('#job-log-lines .log-line');
  /** A job queued straight through the domain, as the admin, in the test image. */
  const queueJob = (name: string, script: string, gpus: number) =>
    appliance.app.jobs.submit(appliance.app.users.get(ADMIN.username), jobSubmissionSchema.parse({ name, image: TEST_IMAGE, command: ['sh', '-c', script], gpus }));

  beforeAll(async () => {
    await requireImage(docker!);
    dataDir = mkdtempSync(join(tmpdir(), 'trainyard-jobs-browser-'));
    const config = loadConfig({ dataDir, port: 0, host: '127.0.0.1', logLevel: 'silent', adminPassword: ADMIN.password, gpus: 'fake:4xH100-80GB' }, {});
    appliance = await startAppliance(config);
    browser = await openBrowserPage(chromium!);
    page = browser.page;
  });

  afterAll(async () => {
    await browser?.browser.close();
    await appliance?.close();
    if (dataDir) {
      await removeInstanceContainers(docker!, [readInstanceId(dataDir)]);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('signs in and finds Jobs and GPUs in the navigation', async () => {
    await signInPage(page, appliance.url, ADMIN);
    await page.locator('.nav').getByRole('link', { name: 'Jobs' }).click();
    expect(new URL(page.url()).pathname).toBe('/jobs');
    expect(await page.locator('.nav a.active').textContent()).toBe('Jobs');
    expect(await page.locator('.nav').getByRole('link', { name: 'GPUs' }).getAttribute('href')).toBe('/gpus');
  });

  it('submits a job through the form: a bad line is refused in place, a good job appears and starts in the queue', async () => {
    await liveChannelOpen();
    await markDocument();
    await page.locator('#submit-job summary').click();
    expect(await page.inputValue('#submit-job input[name="image"]')).toBe('trainyard/python:bookworm');
    await page.fill('#submit-job input[name="image"]', TEST_IMAGE);
    await page.fill('#submit-job input[name="name"]', 'hello-gpu');
    await page.fill('#submit-job textarea[name="command"]', COMMAND.join('\n'));
    await page.fill('#submit-job textarea[name="env"]', 'EPOCHS=2\nNOT A VARIABLE');
    await page.fill('#submit-job input[name="gpus"]', '1');
    await page.fill('#submit-job input[name="timeLimit"]', '10m');
    await page.getByRole('button', { name: 'Submit job' }).click();
    await expect.poll(() => page.locator('#flash .flash.error').textContent()).toContain('env line 2');
    await shot('jobs-submit-refused.png');

    await page.fill('#submit-job textarea[name="env"]', 'EPOCHS=2');
    await page.getByRole('button', { name: 'Submit job' }).click();
    const notice = page.locator('#submit-result .flash.ok');
    await expect.poll(() => notice.textContent()).toContain('hello-gpu');
    jobId = Number((await notice.locator('a').getAttribute('href'))!.split('/').pop());
    expect(appliance.app.jobs.byId(jobId)).toMatchObject({ image: TEST_IMAGE, command: COMMAND, env: { EPOCHS: '2' }, gpus: 1, timeLimitMs: 600_000 });
    await expect.poll(() => page.locator('#flash').textContent()).toBe('');
    // The accepted form is empty again, its defaults back.
    expect(await page.inputValue('#submit-job textarea[name="command"]')).toBe('');
    expect(await page.inputValue('#submit-job input[name="image"]')).toBe('trainyard/python:bookworm');

    // The scheduler places and starts it; each step arrives over the live channel.
    const row = page.locator(`#job-queue tr#job-${jobId}`);
    await expect.poll(() => row.locator('.badge').textContent(), { timeout: 15_000 }).toBe('running');
    heldGpu = appliance.app.jobs.byId(jobId)!.gpuUuids[0]!;
    expect(await row.textContent()).toMatch(/GPU \d/);
    expect(await stillSameDocument()).toBe('yes');
    await shot('jobs.png');
  });

  it("follows the job's page live: the container's lines arrive styled by stream", async () => {
    await page.locator(`#job-queue tr#job-${jobId}`).getByRole('link', { name: 'hello-gpu' }).click();
    expect(new URL(page.url()).pathname).toBe(`/jobs/${jobId}`);
    await liveChannelOpen();
    await markDocument();
    expect(await page.locator('#job-summary h1 .badge').textContent()).toBe('running');
    expect(await page.locator('table.details tr', { hasText: 'GPUs held' }).locator('a').getAttribute('href')).toBe(`/gpus#gpu-${heldGpu}`);
    // stdout and stderr are separate streams: their lines interleave as they arrive.
    await expect.poll(() => page.locator('#job-log-lines').textContent()).toContain('epoch 2 loss 0.31');
    expect(await page.locator('#job-log-lines .log-line.stderr').textContent()).toContain('low disk space');
    expect(await page.locator('#job-log-lines .log-line.system').first().textContent()).toContain('running on GPU');
    expect(await page.locator('.job-log .log-empty').isVisible()).toBe(false);
    expect(await page.locator('ol.timeline li').count()).toBe(3);
    expect(await stillSameDocument()).toBe('yes');
    await shot('job-running.png');
  });

  it('keeps the log scrolled to its end as lines arrive, and leaves it alone once the reader scrolls up', async () => {
    const log = page.locator('.job-log');
    const distanceFromEnd = () => log.evaluate((box) => box.scrollHeight - box.scrollTop - box.clientHeight);
    signal(jobId, 'steps');
    await expect.poll(() => logLines().last().textContent()).toContain('step 119');
    await expect.poll(distanceFromEnd).toBeLessThan(5);

    await log.evaluate((box) => box.scrollTo(0, 0));
    signal(jobId, 'late');
    await expect.poll(() => logLines().last().textContent()).toContain('while you were reading');
    expect(await log.evaluate((box) => box.scrollTop)).toBe(0);
  });

  it('shows on the GPU board which GPU the running job holds', async () => {
    await page.locator('.nav').getByRole('link', { name: 'GPUs' }).click();
    const cards = page.locator('#gpu-board article.gpu-card');
    await expect.poll(() => cards.count()).toBe(4);
    const held = page.locator(`article[id="gpu-${heldGpu}"]`);
    expect(await held.locator('ul.holders a').getAttribute('href')).toBe(`/jobs/${jobId}`);
    expect(await held.textContent()).toContain('hello-gpu');
    expect(Number(await held.locator('[aria-label="Utilization"]').getAttribute('aria-valuenow'))).toBeGreaterThan(0);
    expect(await page.locator('#gpu-board .holders.free').count()).toBe(3);
    await shot('gpus.png');
  });

  it('shows the whole log again on returning, then the job finishing, without a reload', async () => {
    await page.goto(url(`/jobs/${jobId}`));
    await liveChannelOpen();
    await markDocument();
    const shown = await logLines().count();
    expect(shown).toBe(appliance.app.jobLogs.read(jobId).length);
    expect(shown).toBeGreaterThanOrEqual(124);
    signal(jobId, 'finish');
    const state = page.locator('#job-summary h1 .badge');
    await expect.poll(() => state.textContent(), { timeout: 15_000 }).toBe('succeeded');
    await expect.poll(() => page.locator('#job-log-lines .log-line.stdout').last().textContent()).toContain('saved model.pt');
    expect(await page.locator('table.details tr', { hasText: 'Exit code' }).locator('td').textContent()).toBe('0');
    expect(await page.getByRole('button', { name: 'Cancel job' }).count()).toBe(0);
    expect(await stillSameDocument()).toBe('yes');
    await shot('job-succeeded.png');
  });

  it('shows the next job on the board within one refresh, the finished one gone', async () => {
    await page.goto(url('/gpus'));
    await markDocument();
    const next = queueJob('board-check', awaitSignal('never'), 1);
    // The board asks for itself again every 3 s.
    await expect.poll(() => page.locator('#gpu-board ul.holders a').textContent(), { timeout: 15_000 }).toContain('board-check');
    expect(await page.locator('#gpu-board ul.holders a').getAttribute('href')).toBe(`/jobs/${next.id}`);
    expect(await page.locator('#gpu-board .holders.free').count()).toBe(3);
    expect(await stillSameDocument()).toBe('yes');
  });

  it('cancels a job that waits for GPUs from its page after confirming', async () => {
    const waiting = queueJob('second-thoughts', 'true', 4);
    await page.goto(url(`/jobs/${waiting.id}`));
    await expect.poll(() => page.locator('.job-reason').textContent()).toContain('4 GPU');
    expect(await page.locator('#job-summary h1 .badge').textContent()).toBe('queued');
    let question = '';
    page.once('dialog', (dialog) => {
      question = dialog.message();
      void dialog.accept();
    });
    await page.getByRole('button', { name: 'Cancel job' }).click();
    await expect.poll(() => page.locator('#job-summary h1 .badge').textContent()).toBe('cancelled');
    expect(question).toBe(`Cancel job ${waiting.id} (second-thoughts)? A running job is stopped.`);
    expect(await page.locator('.job-reason').textContent()).toBe('cancelled by admin');
    await shot('job-cancelled.png');

    await page.locator('.crumbs').getByRole('link', { name: 'Jobs' }).click();
    expect(await page.locator('#job-history tbody tr').count()).toBe(2);
    expect(await page.locator(`#job-history tr#job-${jobId}`).textContent()).toMatch(/\d GPU-s/);
    expect(await page.locator(`#job-queue tr#job-${waiting.id - 1}`).textContent()).toMatch(/GPU \d/);
    await shot('jobs-history.png');
  });

  it('met no script errors, CSP violations or failed requests beyond the refused submit', () => {
    expect(browser.pageErrors).toEqual([]);
    expect(browser.failedResponses).toEqual(['400 POST /jobs']);
  });
});
