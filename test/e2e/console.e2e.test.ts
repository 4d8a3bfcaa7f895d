// The console, as a person sees it: the whole product runs (same launcher as
// `npm start`), Chromium opens the console's first page and reads the health
// status the API reports for PostgreSQL and Temporal.
import { type Browser } from 'playwright-core';
import { env, launchBrowser, screenshotPath } from './browser';

const consoleUrl = () => env('TF_E2E_CONSOLE_URL');

let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
});

it('loads the console and shows every dependency healthy', async () => {
  const page = await browser.newPage();
  const response = await page.goto(consoleUrl(), { waitUntil: 'networkidle' });
  expect(response?.status()).toBe(200);
  await expect(page.title()).resolves.toBe('Tenantflow · System status');

  await page.locator('[data-testid="health-summary"][data-status="ok"]').waitFor({ timeout: 30_000 });
  for (const dep of ['api', 'db', 'temporal']) {
    await expect(page.locator(`[data-testid="health-${dep}"]`).getAttribute('data-status')).resolves.toBe('ok');
  }
  await expect(page.getByText('All systems operational').isVisible()).resolves.toBe(true);
  await page.screenshot({ path: await screenshotPath('console-health'), fullPage: true });
  await page.close();
});

it('serves the status page without JavaScript (server-rendered)', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(consoleUrl());
  await expect(page.locator('[data-testid="health-db"]').getAttribute('data-status')).resolves.toBe('ok');
  await context.close();
});

it('reaches the Temporal Web UI that the dev server embeds', async () => {
  const ui = process.env.TF_E2E_TEMPORAL_UI_URL;
  expect(ui).toBeTruthy();
  const res = await fetch(ui!);
  expect(res.status).toBe(200);
});
