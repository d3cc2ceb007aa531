// The dashboard in a real browser: Chromium drives the server-rendered pages of a running appliance
// (sign-in, overview, API tokens, the live audit log over the WebSocket channel, user admin, an experiment's
// runs, a run's metric charts and artifacts, a comparison of runs, registered models: aliases, descriptions, tags,
// stages, deletes, and the versions a run registered).
// Screenshots of every page land in test-results/ for a human to look at.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { startAppliance, type Appliance } from '../../src/appliance.ts';
import { openBrowserPage, type BrowserPage } from '../helpers/browser.ts';
import { requireChromium } from '../helpers/environment.ts';

const chromium = requireChromium();

const ADMIN = { username: 'admin', password: 'correct-horse-9' };
const basic = (user: { username: string; password: string }) =>
  'Basic ' + Buffer.from(`${user.username}:${user.password}`).toString('base64');

describe.skipIf(!chromium)('dashboard in a browser', () => {
  let dataDir: string;
  let appliance: Appliance;
  let browser: BrowserPage;
  let page: Page;
  /** What the server pushed over WebSockets. */
  const liveFrames: string[] = [];

  const url = (path: string) => appliance.url + path;
  const shot = (name: string) => browser.shot(name);
  const whoami = (token: string) => fetch(url('/api/v1/whoami'), { headers: { Authorization: `Bearer ${token}` } });
  /** An MLflow API call as the admin, which must succeed; its JSON. */
  const mlflow = async (path: string, body: unknown) => {
    const response = await fetch(url(`/api/2.0/mlflow${path}`), {
      method: 'POST',
      headers: { Authorization: basic(ADMIN), 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    const answer: any = await response.json();
    expect(response.status, JSON.stringify(answer)).toBe(200);
    return answer;
  };
  /** A finished run with 3000 steps of loss and accuracy; a larger `pace` learns slower. */
  const loggedRun = async (experimentId: string, name: string, pace: number, lr: string): Promise<string> => {
    const { run } = await mlflow('/runs/create', { experiment_id: experimentId, run_name: name, start_time: Date.now() - 90_000 });
    const runId: string = run.info.run_id;
    // log-batch takes up to 1000 metrics: 500 steps of two metrics each time.
    for (let batch = 0; batch < 6; batch++) {
      const steps = Array.from({ length: 500 }, (_, index) => batch * 500 + index);
      await mlflow('/runs/log-batch', {
        run_id: runId,
        metrics: steps.flatMap((step) => [
          { key: 'loss', value: 2 * Math.exp(-step / (600 * pace)) + 0.05 * Math.sin(step / 15), timestamp: Date.now(), step },
          { key: 'accuracy', value: 0.95 * (1 - Math.exp(-step / (500 * pace))), timestamp: Date.now(), step },
        ]),
      });
    }
    await mlflow('/runs/log-batch', { run_id: runId, params: [{ key: 'lr', value: lr }, { key: 'batch_size', value: '256' }] });
    await mlflow('/runs/update', { run_id: runId, status: 'FINISHED', end_time: Date.now() });
    return runId;
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'trainyard-browser-'));
    const config = loadConfig({ dataDir, port: 0, host: '127.0.0.1', logLevel: 'silent', adminPassword: ADMIN.password }, {});
    appliance = await startAppliance(config);
    browser = await openBrowserPage(chromium!);
    page = browser.page;
    page.on('websocket', (socket) => {
      socket.on('framereceived', ({ payload }) => liveFrames.push(String(payload)));
    });
  });

  afterAll(async () => {
    await browser?.browser.close();
    await appliance?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('sends an anonymous visitor to the login page and refuses a wrong password', async () => {
    await page.goto(url('/'));
    expect(new URL(page.url()).pathname).toBe('/login');
    await expect.poll(() => page.getByRole('button', { name: 'Sign in' }).isVisible()).toBe(true);

    await page.fill('input[name="username"]', ADMIN.username);
    await page.fill('input[name="password"]', 'not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForLoadState();
    expect(new URL(page.url()).pathname).toBe('/login');
    const error = page.locator('.flash.error');
    await error.waitFor();
    expect((await error.textContent())?.trim()).toMatch(/\S/);
    // The username is kept, the password is not.
    expect(await page.inputValue('input[name="username"]')).toBe(ADMIN.username);
    expect(await page.inputValue('input[name="password"]')).toBe('');
    await shot('login.png');
  });

  it('signs the admin in and shows the overview', async () => {
    await page.fill('input[name="username"]', ADMIN.username);
    await page.fill('input[name="password"]', ADMIN.password);
    await Promise.all([page.waitForURL((target) => target.pathname === '/'), page.getByRole('button', { name: 'Sign in' }).click()]);
    await expect.poll(() => page.locator('h1').textContent()).toContain('Welcome');
    await shot('overview.png');
  });

  it('creates an API token through the form, shows its secret once, and revokes it', async () => {
    await page.goto(url('/settings/tokens'));
    await page.fill('input[name="name"]', 'browser-laptop');
    await page.selectOption('select[name="scope"]', 'read');
    await page.selectOption('select[name="expiresIn"]', '7d');
    await page.getByRole('button', { name: 'Create token' }).click();

    const secretCode = page.locator('#new-token code');
    await secretCode.waitFor();
    const secret = (await secretCode.textContent())?.trim() ?? '';
    expect(secret).toMatch(/^ty_\S+$/);
    // htmx swapped the list in place: still the same page, no navigation.
    expect(new URL(page.url()).pathname).toBe('/settings/tokens');

    const row = page.locator('#token-list tbody tr', { hasText: 'browser-laptop' });
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.textContent()).toContain('read');
    expect(await row.locator('.badge').textContent()).toBe('active');

    const asToken = await whoami(secret);
    expect(asToken.status).toBe(200);
    expect(JSON.stringify(await asToken.json())).toContain(ADMIN.username);
    await shot('tokens.png');

    // The secret is shown once: a fresh load of the page does not show it again.
    await page.reload();
    await expect.poll(() => page.locator('#new-token').count()).toBe(0);
    expect(await page.content()).not.toContain(secret);

    let confirmMessage = '';
    page.once('dialog', (dialog) => {
      confirmMessage = dialog.message();
      void dialog.accept();
    });
    await page.locator('#token-list tbody tr', { hasText: 'browser-laptop' }).getByRole('button', { name: 'Revoke' }).click();
    await expect
      .poll(() => page.locator('#token-list tbody tr', { hasText: 'browser-laptop' }).locator('.badge').textContent())
      .toBe('revoked');
    expect(confirmMessage).toContain('browser-laptop');
    expect(await page.locator('#token-list tbody tr', { hasText: 'browser-laptop' }).getByRole('button', { name: 'Revoke' }).count()).toBe(0);
    expect((await whoami(secret)).status).toBe(401);
  });

  it('shows a new audit event on the open audit page without a reload (WebSocket live feed)', async () => {
    await page.goto(url('/admin/audit'));
    const rows = page.locator('#audit-rows tr');
    await expect.poll(() => rows.count()).toBeGreaterThan(0);
    expect(await page.locator('#audit-rows tr', { hasText: 'live-check' }).count()).toBe(0);

    // Wait until htmx has the live channel open, so the event is not recorded before the server subscribes.
    await waitForLiveSocket(page);
    await page.locator('#live-dot.on').waitFor({ timeout: 5_000 });

    // Mark the document: a reload would lose the mark, so finding it afterwards proves the row arrived in place.
    await page.evaluate(`document.body.dataset.loadedOnce = 'yes'`);

    const response = await fetch(url('/api/v1/tokens'), {
      method: 'POST',
      headers: { Authorization: basic(ADMIN), 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'live-check' }),
    });
    expect(response.status).toBe(201);

    const liveRow = page.locator('#audit-rows tr', { hasText: 'live-check' });
    await liveRow.waitFor({ timeout: 5_000 });
    expect(await liveRow.textContent()).toContain('token.create');
    // ...and it came over the socket, as an <hx-partial> aimed at the table.
    expect(liveFrames.some((frame) => frame.includes('<hx-partial hx-target="#audit-rows"') && frame.includes('live-check'))).toBe(true);
    // Prepended: the newest event is the first row.
    expect(await rows.first().textContent()).toContain('live-check');
    expect(await page.evaluate(`document.body.dataset.loadedOnce`)).toBe('yes');
    await shot('audit.png');
  });

  it('adds a user through the admin form', async () => {
    await page.goto(url('/admin/users'));
    await page.fill('form[hx-post="/admin/users"] input[name="username"]', 'ada');
    await page.fill('form[hx-post="/admin/users"] input[name="displayName"]', 'Ada Lovelace');
    await page.fill('form[hx-post="/admin/users"] input[name="password"]', 'analytical-engine-1');
    await page.getByRole('button', { name: 'Add user' }).click();

    const row = page.locator('#user-list tbody tr', { hasText: 'ada' });
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.textContent()).toContain('Ada Lovelace');
    expect(await row.textContent()).toContain('member');
    expect(new URL(page.url()).pathname).toBe('/admin/users');

    // The accepted form empties itself, password included.
    expect(await page.inputValue('form[hx-post="/admin/users"] input[name="username"]')).toBe('');
    expect(await page.inputValue('form[hx-post="/admin/users"] input[name="password"]')).toBe('');

    // Adding the same name again is refused (409): htmx retargets the message into the page's flash area
    // (HX-Retarget: #flash) and the table stays. The screenshot shows both.
    await page.fill('form[hx-post="/admin/users"] input[name="username"]', 'ada');
    await page.fill('form[hx-post="/admin/users"] input[name="password"]', 'analytical-engine-2');
    await page.getByRole('button', { name: 'Add user' }).click();
    const refusal = page.locator('#flash .flash.error');
    await refusal.waitFor();
    expect(await refusal.textContent()).toContain('ada');
    expect(await page.locator('#user-list tbody tr', { hasText: 'Ada Lovelace' }).count()).toBe(1);

    // The new user can sign in with the password the admin set.
    const asAda = await fetch(url('/api/v1/whoami'), { headers: { Authorization: basic({ username: 'ada', password: 'analytical-engine-1' }) } });
    expect(asAda.status).toBe(200);
    await shot('users.png');
  });

  /** The resnet sweep the experiment, artifact and compare tests share. */
  let experimentId: string;
  let runId: string;

  it('opens an experiment, then a run, and draws its metric charts', async () => {
    experimentId = (await mlflow('/experiments/create', { name: 'resnet-sweep' })).experiment_id;
    runId = await loggedRun(experimentId, 'resnet-50', 1, '0.001');

    await page.goto(url('/experiments'));
    await page.getByRole('link', { name: 'resnet-sweep' }).click();
    // A bad filter leaves the table and says why; a good one replaces the table and lands in the address bar.
    const filter = page.getByLabel('Filter');
    await filter.fill('metrics.accuracy >>> 1');
    await filter.press('Enter');
    await expect.poll(() => page.locator('#flash .flash.error').textContent()).toMatch(/.+/);
    expect(await page.locator('#runs tbody tr').count()).toBe(1);
    await filter.fill('metrics.accuracy > 0.9');
    await filter.press('Enter');
    await expect.poll(() => new URL(page.url()).searchParams.get('filter')).toBe('metrics.accuracy > 0.9');
    await expect.poll(() => page.locator('#flash').textContent()).toBe('');
    expect(await page.locator('#runs tbody tr').count()).toBe(1);
    await shot('experiment.png');
    await page.getByRole('link', { name: 'resnet-50' }).click();
    expect(new URL(page.url()).pathname).toBe(`/runs/${runId}`);
    await expect.poll(() => page.locator('[data-metric-chart] canvas').count()).toBe(2);
    await shot('run.png');
  });

  it("browses a run's artifacts: opens a folder and previews a text file in place", async () => {
    const files: Record<string, string> = {
      'model/MLmodel': 'artifact_path: model\nflavors:\n  python_function:\n    loader_module: mlflow.pytorch\n    python_version: 3.11.9\n',
      'model/requirements.txt': 'torch==2.3.1\nmlflow==2.22.1\n',
      'model/data/model.pth': 'not really weights',
      'config.yaml': 'model: resnet50\nepochs: 90\n',
      'train.log': Array.from({ length: 40 }, (_, epoch) => `epoch ${epoch} loss ${(2 / (epoch + 1)).toFixed(4)}`).join('\n'),
    };
    for (const [path, body] of Object.entries(files)) {
      const response = await fetch(url(`/api/2.0/mlflow-artifacts/artifacts/${experimentId}/${runId}/artifacts/${path}`), {
        method: 'PUT',
        headers: { Authorization: basic(ADMIN) },
        body,
      });
      expect(response.status).toBe(200);
    }
    await page.goto(url(`/runs/${runId}`));
    await page.evaluate(`document.body.dataset.loadedOnce = 'yes'`);
    await page.locator('#artifacts').getByRole('link', { name: 'model/' }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('path')).toBe('model');
    const listing = page.locator('#artifacts .artifact-list');
    await expect.poll(() => listing.textContent()).toContain('requirements.txt');
    expect(await listing.textContent()).not.toContain('config.yaml');
    await page.locator('#artifacts').getByRole('link', { name: 'MLmodel' }).click();
    await expect.poll(() => page.locator('#artifact-preview pre').textContent()).toContain('loader_module: mlflow.pytorch');
    // htmx swapped the fragments: the page was never reloaded.
    expect(await page.evaluate(`document.body.dataset.loadedOnce`)).toBe('yes');
    await shot('artifacts.png');
  });

  it('compares two runs: params side by side and one chart with a line per run', async () => {
    await loggedRun(experimentId, 'resnet-101', 2, '0.0005');
    await page.goto(url(`/experiments/${experimentId}`));
    for (const name of ['resnet-50', 'resnet-101']) await page.getByLabel(`Compare ${name}`).check();
    await Promise.all([page.waitForURL((target) => target.pathname.endsWith('/compare')), page.getByRole('button', { name: 'Compare' }).click()]);
    expect(new URL(page.url()).searchParams.getAll('runs')).toHaveLength(2);
    await expect.poll(() => page.locator('[data-compare-chart] canvas').count()).toBe(1);
    expect(await page.locator('tr.differs').first().textContent()).toContain('lr');
    expect(await page.locator('[data-compare-chart] .u-legend').textContent()).toContain('resnet-101');
    await page.selectOption('select[name="metric"]', 'loss');
    await Promise.all([page.waitForURL((target) => target.searchParams.get('metric') === 'loss'), page.getByRole('button', { name: 'Show' }).click()]);
    await expect.poll(() => page.locator('[data-compare-chart] canvas').count()).toBe(1);
    await shot('compare.png');
  });

  it('lists registered models, opens one with its lineage, and sets an alias through the form', async () => {
    const { experiment_id: experimentId } = await mlflow('/experiments/create', { name: 'fraud-training' });
    const { run } = await mlflow('/runs/create', { experiment_id: experimentId, run_name: 'gentle-lamb', start_time: Date.now() });
    const runId = run.info.run_id;
    await mlflow('/registered-models/create', { name: 'fraud-detector', description: 'Scores card payments in real time' });
    await mlflow('/registered-models/create', { name: 'churn-predictor', description: 'Monthly churn risk per account' });
    for (let version = 0; version < 3; version++) {
      await mlflow('/model-versions/create', { name: 'fraud-detector', source: `runs:/${runId}/model`, run_id: runId });
    }
    await mlflow('/model-versions/transition-stage', { name: 'fraud-detector', version: '2', stage: 'Production' });
    await mlflow('/registered-models/alias', { name: 'fraud-detector', alias: 'prod', version: '2' });

    await page.goto(url('/models'));
    const filter = page.getByLabel('Name');
    await filter.fill('FRAUD');
    await filter.press('Enter');
    await expect.poll(() => new URL(page.url()).searchParams.get('filter')).toBe('FRAUD');
    await expect.poll(() => page.locator('#model-list tbody tr').count()).toBe(1);
    await filter.fill('');
    await filter.press('Enter');
    await expect.poll(() => page.locator('#model-list tbody tr').count()).toBe(2);
    await shot('models.png');

    await page.getByRole('link', { name: 'fraud-detector' }).click();
    expect(new URL(page.url()).pathname).toBe('/models/fraud-detector');
    await expect.poll(() => page.locator('#versions tbody tr').first().textContent()).toContain('v3');
    expect(await page.locator('#versions a[href="/runs/' + runId + '"]').count()).toBe(3);

    // A reserved name is refused into the flash area; a good one appears in the aliases and versions tables.
    await page.fill('#aliases input[name="alias"]', 'latest');
    await page.getByRole('button', { name: 'Set alias' }).click();
    await expect.poll(() => page.locator('#flash .flash.error').textContent()).toContain('reserved');
    await page.fill('#aliases input[name="alias"]', 'challenger');
    await page.selectOption('#aliases select[name="version"]', '3');
    await page.getByRole('button', { name: 'Set alias' }).click();
    await expect.poll(() => page.locator('#aliases tbody tr', { hasText: '@challenger' }).textContent()).toContain('v3');
    await expect.poll(() => page.locator('#flash').textContent()).toBe('');
    expect(await page.locator('#versions tbody tr', { hasText: '@challenger' }).locator('strong').textContent()).toBe('v3');
    expect(await page.inputValue('#aliases input[name="alias"]')).toBe('');

    // The description is edited in place; the tags form sits below it.
    await page.locator('#model-info summary', { hasText: 'Edit description' }).click();
    await page.fill('#model-info textarea[name="description"]', 'Scores card payments in real time.\nRetrained every night on the day’s chargebacks.');
    await shot('model-edit.png');
    await page.getByRole('button', { name: 'Save description' }).click();
    await expect.poll(() => page.locator('#model-info p.description').textContent()).toContain('Retrained every night');
    await page.fill('#model-info input[name="key"]', 'team');
    await page.fill('#model-info input[name="value"]', 'risk');
    await page.getByRole('button', { name: 'Set tag' }).click();
    await expect.poll(() => page.locator('#model-info table.tags').textContent()).toContain('risk');
    await shot('model.png');
  });

  it("moves a version to Production, archiving the one there, and shows it on its run's page", async () => {
    await page.locator('#versions').getByRole('link', { name: 'v3' }).click();
    expect(new URL(page.url()).pathname).toBe('/models/fraud-detector/versions/3');
    const body = page.locator('#version-body');
    // Archiving the others is only for an active stage: refused into the flash area, nothing changes.
    await page.selectOption('#version-body select[name="stage"]', 'None');
    await page.check('#version-body input[name="archive_existing_versions"]');
    await page.getByRole('button', { name: 'Transition' }).click();
    await expect.poll(() => page.locator('#flash .flash.error').textContent()).toContain('not an Active stage');
    await page.selectOption('#version-body select[name="stage"]', 'Production');
    await page.check('#version-body input[name="archive_existing_versions"]');
    await page.getByRole('button', { name: 'Transition' }).click();
    await expect.poll(() => body.locator('.badge.ok').first().textContent()).toBe('Production');
    await expect.poll(() => page.locator('#flash').textContent()).toBe('');
    await shot('model-version.png');

    await body.getByRole('link', { name: 'gentle-lamb' }).click();
    const versions = page.locator('#model-versions tbody tr');
    await expect.poll(() => versions.count()).toBe(3);
    expect(await versions.first().textContent()).toContain('v3');
    expect(await versions.first().locator('.badge').first().textContent()).toBe('Production');
    expect(await page.locator('#model-versions tbody tr', { hasText: 'v2' }).textContent()).toContain('Archived');
    await shot('run-models.png');
  });

  it('deletes a version and a model after confirming, landing where they were listed', async () => {
    const confirmations: string[] = [];
    page.on('dialog', (dialog) => {
      confirmations.push(dialog.message());
      void dialog.accept();
    });
    await page.goto(url('/models/fraud-detector/versions/1'));
    await Promise.all([page.waitForURL((target) => target.pathname === '/models/fraud-detector'), page.getByRole('button', { name: 'Delete version' }).click()]);
    await expect.poll(() => page.locator('#versions tbody tr').count()).toBe(2);

    await page.goto(url('/models/churn-predictor'));
    await Promise.all([page.waitForURL((target) => target.pathname === '/models'), page.getByRole('button', { name: 'Delete model' }).click()]);
    await expect.poll(() => page.locator('#model-list tbody tr').count()).toBe(1);
    page.removeAllListeners('dialog');
    expect(confirmations).toEqual([
      'Delete version 1 of fraud-detector? Code loading models:/fraud-detector/1 stops working. This cannot be undone.',
      'Delete the model churn-predictor and its tags and aliases? Code loading models:/churn-predictor stops working. This cannot be undone.',
    ]);
  });

  it('shows how many runs each experiment has and when the last one started', async () => {
    await page.goto(url('/experiments'));
    const row = page.locator('#experiment-list tbody tr', { hasText: 'resnet-sweep' });
    expect(await row.locator('td.number').textContent()).toBe('2');
    expect(await row.textContent()).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    await shot('experiments.png');
  });

  it('met no script errors, CSP violations or failed requests on the way', () => {
    expect(browser.pageErrors).toEqual([]);
    expect(browser.failedResponses).toEqual([
      '401 POST /login',
      '409 POST /admin/users',
      '400 GET /experiments/1',
      '400 POST /models/fraud-detector/aliases',
      '400 POST /models/fraud-detector/versions/3/stage',
    ]);
  });
});

/**
 * Waits until the hx-ws connection on `<main>` is open, as the browser sees it. hx-ws keeps its connection on
 * the element (`element._htmx.ws.connection.socket`); an open socket means the server ran its onOpen and
 * subscribed to the feed (the server's handshake completes before the browser's `open` event).
 */
async function waitForLiveSocket(page: Page): Promise<void> {
  // A string, not a function: the project compiles without the DOM types.
  const probe = `(() => {
    const main = document.querySelector('main[hx-ws\\\\:connect]');
    if (!main) return 'no <main hx-ws:connect>';
    const socket = main._htmx?.ws?.connection?.socket;
    if (!socket) return 'no connection';
    return ['connecting', 'open', 'closing', 'closed'][socket.readyState];
  })()`;
  await expect.poll(() => page.evaluate<string>(probe), { timeout: 5_000 }).toBe('open');
}
