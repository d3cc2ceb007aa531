import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium as playwright, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Where browser tests leave their screenshots for a human to look at. */
export const SHOTS = join(import.meta.dirname, '../../test-results');

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export interface BrowserPage {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Problems the page reports on its own: script errors, CSP violations, failed console messages. */
  pageErrors: string[];
  /** Responses of 400 and above the browser met, as `status METHOD /path`; only the refusals a test provokes are expected. */
  failedResponses: string[];
  /** A full-page screenshot into SHOTS. */
  shot(name: string): Promise<Buffer>;
}

/** Chromium (headless, 1280x800, 5 s per action) with one page that records what went wrong on it. */
export async function openBrowserPage(executablePath: string): Promise<BrowserPage> {
  mkdirSync(SHOTS, { recursive: true });
  const browser = await playwright.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  context.setDefaultTimeout(5_000);
  const page = await context.newPage();
  const pageErrors: string[] = [];
  const failedResponses: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    // A failed response is also logged as "Failed to load resource"; those are listed from 'response' below.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) pageErrors.push(`console: ${message.text()}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400) failedResponses.push(`${response.status()} ${response.request().method()} ${new URL(response.url()).pathname}`);
  });
  return { browser, context, page, pageErrors, failedResponses, shot: (name) => page.screenshot({ path: join(SHOTS, name), fullPage: true }) };
}

/** Signs in through the login form and waits for the overview. */
export async function signInPage(page: Page, baseUrl: string, user: { username: string; password: string }): Promise<void> {
  await page.goto(`${baseUrl}/login`);
  await page.fill('input[name="username"]', user.username);
  await page.fill('input[name="password"]', user.password);
  await Promise.all([page.waitForURL((target) => target.pathname === '/'), page.getByRole('button', { name: 'Sign in' }).click()]);
}
