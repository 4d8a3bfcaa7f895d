// Billing in the console, in the embedded default's local test mode: a new
// tenant starts on the free plan with usage bars; the owner upgrades to Pro
// through the local checkout (which posts signed Stripe events to the real
// webhook) and sees the plan become active; then buys a credit pack and sees
// the balance. Client billing likewise: Connect onboarding and an invoice's
// checkout lead to the console's local stand-ins, which finish both flows.
import { type Browser } from 'playwright-core';
import { type DataSource } from 'typeorm';
import { openDataSource } from '../helpers/database';
import { addMember, createTenant, createUser, PASSWORD } from '../helpers/fixtures';
import { env, launchBrowser, ready, screenshotPath, signIn } from './browser';

let browser: Browser;
let seed: DataSource;

beforeAll(async () => {
  seed = await openDataSource(env('TF_E2E_DATABASE_URL'), 'tenantflow-e2e-seed');
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await seed?.destroy();
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
  await page.getByRole('link', { name: 'Accounting', exact: true }).click();
  await page.getByRole('link', { name: 'Subscription & usage' }).click();
  await page.getByTestId('local-mode').waitFor();
  await expect(page.getByTestId('plan').textContent()).resolves.toBe('free');
  await page.getByTestId('usage-sends').filter({ hasText: '0 / 100' }).waitFor();
  expect(await page.locator('[data-testid="usage-inboxes"] progress').getAttribute('max')).toBe('1');

  await ready(page);
  await page.getByTestId('plan-pro').getByRole('button', { name: 'Choose Pro' }).click();
  await page.waitForURL(/\/accounting\/billing\/local-checkout\?plan=pro$/);
  await expect(page.getByTestId('checkout-item').textContent()).resolves.toBe('pro');
  await page.getByRole('button', { name: 'Pay (test)' }).click();
  await page.waitForURL(/\/accounting\/billing\?checkout=done$/);
  await page.getByTestId('status').filter({ hasText: 'active' }).waitFor({ timeout: 30_000 });
  await page.getByTestId('plan').filter({ hasText: 'pro' }).waitFor();
  await page.getByTestId('usage-sends').filter({ hasText: '0 / 20000' }).waitFor({ timeout: 30_000 });
  await page.screenshot({ path: await screenshotPath('billing-pro-active'), fullPage: true });

  await page.getByRole('button', { name: /Buy 50 extra sends/ }).click();
  await page.waitForURL(/\/accounting\/billing\/local-checkout\?pack=sends_50$/);
  await page.getByRole('button', { name: 'Pay (test)' }).click();
  await page.waitForURL(/\/accounting\/billing\?checkout=done$/);
  await page.getByTestId('credits').filter({ hasText: /^50$/ }).waitFor({ timeout: 30_000 });

  // The platform view shows the tenant's billing state.
  await admin.goto(`${base}/platform`);
  await admin.getByTestId(`billing-billing-${n}`).filter({ hasText: 'pro' }).waitFor();
});

it('connects a Stripe account and takes an invoice payment through the local stand-ins of Stripe’s pages', async () => {
  const base = env('TF_E2E_CONSOLE_URL');
  const t = await createTenant(seed, { name: 'Client Billing Co', customers: 1 });
  const owner = await createUser(seed, { name: 'Connie Connect' });
  await addMember(seed, t, owner, 'owner');
  const customer = t.customers[0]!;
  const page = await (await browser.newContext()).newPage();
  await signIn(page, base, owner.email, PASSWORD);

  // Onboarding: the button leads to the local page, not to a Stripe host.
  await page.goto(`${base}/accounting/client-billing?customer=${customer.id}`);
  await ready(page);
  await page.getByRole('button', { name: 'Connect a Stripe account' }).click();
  await page.waitForURL(`${base}/accounting/client-billing/local-onboarding`);
  await ready(page);
  await page.getByRole('button', { name: 'Finish onboarding (test)' }).click();
  await page.waitForURL(/\/accounting\/client-billing\?onboarding=done$/);
  const connect = page.getByTestId('connect');
  await connect.getByText('Charges enabled: yes').waitFor();
  await connect.getByText('Payouts enabled: yes').waitFor();

  // An invoice, its checkout link (local), and paying it there.
  await page.goto(`${base}/accounting/client-billing?customer=${customer.id}`);
  await ready(page);
  await page.getByLabel('Description').fill('Lead generation, May');
  await page.getByLabel('Amount').fill('250');
  await page.getByRole('button', { name: 'Create invoice' }).click();
  await page.getByRole('button', { name: 'Get checkout link' }).click();
  const link = page.getByTestId('checkout-link');
  await link.waitFor();
  const href = (await link.getAttribute('href'))!;
  expect(href.startsWith(`${base}/accounting/client-billing/local-checkout?`)).toBe(true);
  await link.click();
  await page.waitForURL(href);
  await ready(page);
  await expect(page.getByTestId('checkout-item').textContent()).resolves.toBe('Lead generation, May');
  await page.getByRole('button', { name: 'Pay (test)' }).click();
  await page.waitForURL(/\/accounting\/client-billing\?customer=.*&paid=cinv_/);
  await page
    .locator('[data-testid^="invoice-cinv_"] td')
    .filter({ hasText: /^paid$/ })
    .waitFor({ timeout: 30_000 });
  await page.screenshot({ path: await screenshotPath('client-billing-paid'), fullPage: true });
});
