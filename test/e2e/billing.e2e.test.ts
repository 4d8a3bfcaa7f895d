// Billing in the console, in the embedded default's local test mode: a new
// tenant starts on the free plan with usage bars; the owner upgrades to Pro
// through the local checkout (which posts signed Stripe events to the real
// webhook) and sees the plan become active; then buys a credit pack and sees
// the balance.
import { type Browser } from 'playwright-core';
import { env, launchBrowser, ready, screenshotPath, signIn } from './browser';

let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
});

it('upgrades through the local checkout, shows the plan active with usage bars, and credits a pack', async () => {
  const base = env('TF_E2E_CONSOLE_URL');
  const admin = await browser.newPage();
  await signIn(admin, base, env('TF_E2E_ADMIN_EMAIL'), env('TF_E2E_ADMIN_PASSWORD'));
  await admin.goto(`${base}/platform`);
  await ready(admin);
  const n = Date.now().toString(36);
  const form = admin.getByTestId('register-form');
  await form.getByLabel('Name').first().fill(`Billing Plumbing ${n}`);
  await form.getByLabel('Slug').fill(`billing-${n}`);
  await form.getByLabel('External customer id').fill(`crm-billing-${n}`);
  await form.getByLabel('Industry').selectOption('home-services');
  await form.getByLabel('Owner e-mail').fill(`bill-${n}@example.test`);
  await form.getByLabel('Owner name').fill('Bill Owner');
  await form.getByLabel('Owner password (leave empty to send an invite)').fill('bill password 123');
  await form.getByRole('button', { name: 'Register and provision' }).click();
  await admin.waitForURL(/\/platform\/tenants\/[0-9a-f-]{36}$/);
  await admin.getByTestId('progress-percent').filter({ hasText: '100%' }).waitFor({ timeout: 60_000 });

  const page = await (await browser.newContext()).newPage();
  await signIn(page, base, `bill-${n}@example.test`, 'bill password 123');
  await page.getByRole('link', { name: 'Billing', exact: true }).click();
  await page.getByTestId('local-mode').waitFor();
  await expect(page.getByTestId('plan').textContent()).resolves.toBe('free');
  await page.getByTestId('usage-sends').filter({ hasText: '0 / 100' }).waitFor();
  expect(await page.locator('[data-testid="usage-inboxes"] progress').getAttribute('max')).toBe('1');

  await ready(page);
  await page.getByTestId('plan-pro').getByRole('button', { name: 'Choose Pro' }).click();
  await page.waitForURL(/\/billing\/local-checkout\?plan=pro$/);
  await expect(page.getByTestId('checkout-item').textContent()).resolves.toBe('pro');
  await page.getByRole('button', { name: 'Pay (test)' }).click();
  await page.waitForURL(/\/billing\?checkout=done$/);
  await page.getByTestId('status').filter({ hasText: 'active' }).waitFor({ timeout: 30_000 });
  await page.getByTestId('plan').filter({ hasText: 'pro' }).waitFor();
  await page.getByTestId('usage-sends').filter({ hasText: '0 / 20000' }).waitFor({ timeout: 30_000 });
  await page.screenshot({ path: await screenshotPath('billing-pro-active'), fullPage: true });

  await page.getByRole('button', { name: /Buy 50 extra sends/ }).click();
  await page.waitForURL(/\/billing\/local-checkout\?pack=sends_50$/);
  await page.getByRole('button', { name: 'Pay (test)' }).click();
  await page.waitForURL(/\/billing\?checkout=done$/);
  await page.getByTestId('credits').filter({ hasText: /^50$/ }).waitFor({ timeout: 30_000 });

  // The platform view shows the tenant's billing state.
  await admin.goto(`${base}/platform`);
  await admin.getByTestId(`billing-billing-${n}`).filter({ hasText: 'pro' }).waitFor();
});
