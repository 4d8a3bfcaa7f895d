// The console, as a person sees it: the whole product runs (same launcher as
// `npm start`), Chromium opens the console's first page and reads the health
// status the API reports for PostgreSQL and Temporal.
import { type Browser } from 'playwright-core';
import { env, expectCspViolations, launchBrowser, ready, screenshotPath } from './browser';

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

// What a stored or reflected injection would put into a page: an inline
// script, an inline event handler, and a script added to the DOM.
const INJECTED = '<script>window.__injected = "inline"</script><img src="data:," onload="window.__injected = \'handler\'">';
const injectDomScript = `(() => {
  const s = document.createElement('script');
  s.textContent = 'window.__injected = "dom"';
  document.body.append(s);
})()`;

/** Waits (up to 5 s) for a report that the browser delivers asynchronously. */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 50 && !done(); i++) await new Promise((r) => setTimeout(r, 100));
}

async function loginPageWithInjection(keepPolicy: boolean) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const violations = expectCspViolations(page);
  await page.route(`${consoleUrl()}/login`, async (route) => {
    const response = await route.fetch();
    const headers = { ...response.headers() };
    if (!keepPolicy) delete headers['content-security-policy'];
    const body = (await response.text()).replace('</head>', `${INJECTED}</head>`);
    await route.fulfill({ response, headers, body });
  });
  const response = await page.goto(`${consoleUrl()}/login`);
  await ready(page); // SvelteKit's own (nonce-carrying) bootstrap still runs
  await page.evaluate(injectDomScript);
  const injected = await page.evaluate('window.__injected');
  return { context, page, response, injected, violations };
}

it('sends a strict Content-Security-Policy and refuses framing on every page', async () => {
  const res = await fetch(`${consoleUrl()}/login`);
  const csp = res.headers.get('content-security-policy') ?? '';
  expect(csp).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=]+'/);
  expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
  expect(csp).toMatch(/frame-ancestors 'none'/);
  expect(csp).toMatch(/object-src 'none'/);
  expect(res.headers.get('x-frame-options')).toBe('DENY');
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  expect(res.headers.get('referrer-policy')).toBe('same-origin');
});

it('does not run a script injected into a page', async () => {
  // Control: without the policy the same injection runs, so the page below
  // proves the policy, not a broken injection.
  const open = await loginPageWithInjection(false);
  expect(open.injected).toBe('dom');
  await open.context.close();

  const guarded = await loginPageWithInjection(true);
  expect(guarded.response?.headers()['content-security-policy']).toBeTruthy();
  expect(guarded.injected).toBeUndefined();
  // The console still works: the sign-in form is hydrated and usable.
  await expect(guarded.page.getByLabel('E-mail').isEditable()).resolves.toBe(true);
  await until(() => guarded.violations.filter((v) => /script-src/.test(v)).length >= 3);
  expect(guarded.violations.filter((v) => /script-src/.test(v)).length).toBeGreaterThanOrEqual(3);
  await guarded.context.close();
});

/** The console's sign-in page framed by another site; `keepPolicy: false` strips the console's framing defenses. */
async function framedLogin(keepPolicy: boolean) {
  const context = await browser.newContext();
  const page = await context.newPage();
  expectCspViolations(page);
  const hostile = 'http://hostile.test/';
  await page.route(hostile, (route) => route.fulfill({ contentType: 'text/html', body: `<iframe id="console" src="${consoleUrl()}/login"></iframe>` }));
  if (!keepPolicy) {
    await page.route(`${consoleUrl()}/login`, async (route) => {
      const response = await route.fetch();
      const headers = { ...response.headers() };
      delete headers['content-security-policy'];
      delete headers['x-frame-options'];
      await route.fulfill({ response, headers });
    });
  }
  await page.goto(hostile);
  const frame = await (await page.waitForSelector('#console')).contentFrame();
  await page.waitForTimeout(1000);
  const forms = (await frame?.locator('form').count()) ?? 0;
  await context.close();
  return forms;
}

it('cannot be framed by another site', async () => {
  // Control: without its defenses the framed console shows its form.
  await expect(framedLogin(false)).resolves.toBe(1);
  // With them, Chromium refuses to render it inside another site's page.
  await expect(framedLogin(true)).resolves.toBe(0);
});
