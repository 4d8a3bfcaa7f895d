// What a new user stumbled over, walked again as they walked it: destructive
// actions ask first, errors are written for people, results are confirmed,
// and nothing on the way throws in the page.
import { type Browser, type Page } from 'playwright-core';
import { type DataSource } from 'typeorm';
import { type User } from '../../db/entities';
import { newId } from '../../db/ids';
import { withTenant } from '../../db/tenantContext';
import { openDataSource } from '../helpers/database';
import { addMember, createTenant, createUser, PASSWORD, type TenantFixture } from '../helpers/fixtures';
import { env, launchBrowser, linkFor, ready, screenshotPath, signIn } from './browser';

let browser: Browser;
let owner: DataSource;
let tenant: TenantFixture;
let nina: User;

beforeAll(async () => {
  owner = await openDataSource(env('TF_E2E_DATABASE_URL'), 'tenantflow-e2e-newcomer');
  tenant = await createTenant(owner, { name: 'Newcomer Agency', customers: 1 });
  nina = await createUser(owner, { name: 'Nina New' });
  await addMember(owner, tenant, nina, 'owner');
  // Leads written as the product writes them, with their e-mail domain: the backfill finds nothing to change.
  await withTenant(owner, tenant.tenant.id, async (m) => {
    for (let i = 0; i < 23; i++) {
      await m.query("INSERT INTO leads (tenant_id, id, customer_id, email, email_domain, source) VALUES ($1, $2, $3, $4, 'seed.example', 'api')", [
        tenant.tenant.id,
        newId('lead'),
        tenant.customers[0]!.id,
        `seed-${i}@seed.example`,
      ]);
    }
  });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await owner?.destroy();
});

/** A signed-in page that records every uncaught page error and every console error. */
async function walker(email: string, password: string): Promise<{ page: Page; problems: string[]; close: () => Promise<void> }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror at ${page.url()}: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' || /pattern attribute/i.test(m.text())) problems.push(`console ${m.type()} at ${page.url()}: ${m.text()}`);
  });
  await signIn(page, env('TF_E2E_CONSOLE_URL'), email, password);
  return { page, problems, close: () => context.close() };
}

const base = () => env('TF_E2E_CONSOLE_URL');
const customerId = () => tenant.customers[0]!.id;

async function open(page: Page, path: string): Promise<void> {
  await page.goto(`${base()}${path}`);
  await ready(page);
}

it('adds an inbox without a page error, and a daily cap of 0 or a start without a sequence are explained in plain words', async () => {
  const { page, problems, close } = await walker(nina.email, PASSWORD);

  // A daily cap of 0, sent as a browser that does not check the field would send it.
  await open(page, `/provider/inboxes?customer=${customerId()}`);
  await page.getByTestId('inboxes-empty').filter({ hasText: 'Add one below' }).waitFor();
  const inbox = page.getByTestId('add-inbox-form');
  await inbox.evaluate((f) => ((f as unknown as { noValidate: boolean }).noValidate = true));
  await inbox.getByLabel('From address').fill('hello@newcomer.example');
  await inbox.getByLabel('Daily cap').fill('0');
  await inbox.getByRole('button', { name: 'Add inbox' }).click();
  const capError = inbox.locator('label:has-text("Daily cap") + p.error');
  await capError.waitFor();
  await expect(capError.textContent()).resolves.toBe('Enter 1 or more.');
  await expect(inbox.textContent()).resolves.not.toMatch(/Too small|expected number|invalid body/);

  // The same form, corrected: the inbox is added and the page does not throw.
  await inbox.getByLabel('Daily cap').fill('50');
  await inbox.getByRole('button', { name: 'Add inbox' }).click();
  await page.getByTestId('inbox-hello@newcomer.example').waitFor();
  await page.getByTestId('inbox-added').waitFor();
  await expect(inbox.getByLabel('From address').inputValue()).resolves.toBe('');

  // A campaign: the time zone is picked from a grouped list, not typed.
  await open(page, `/client/campaigns?customer=${customerId()}`);
  const create = page.getByTestId('create-campaign-form');
  const zone = create.getByLabel('Time zone');
  await expect(zone.evaluate((el) => el.tagName)).resolves.toBe('SELECT');
  await expect(zone.locator('optgroup[label="Europe"] option[value="Europe/Berlin"]').count()).resolves.toBe(1);
  await create.getByLabel('Name', { exact: true }).fill('Cold start');
  await zone.selectOption('Europe/Berlin');
  await create.getByRole('button', { name: 'Create campaign' }).click();
  await page.waitForURL(/\/campaigns\/cmp_/);
  await ready(page);

  // Start before a sequence is chosen: told what to do, next to the button, without an API path.
  await page.getByTestId('campaign-start').click();
  const startError = page.locator('.actions + p.error');
  await startError.waitFor();
  await expect(startError.textContent()).resolves.toBe('choose a sequence for this campaign before starting it');
  await expect(page.locator('body').textContent()).resolves.not.toContain('POST /api');
  await expect(page.getByTestId('campaign-status').textContent()).resolves.toBe('draft');
  await page.screenshot({ path: await screenshotPath('newcomer-plain-errors'), fullPage: true });

  expect(problems).toEqual([]);
  await close();
});

it('asks before deleting a customer, unsubscribing a lead, removing an inbox or withdrawing an invitation, and does nothing until confirmed', async () => {
  const { page, problems, close } = await walker(nina.email, PASSWORD);

  // A customer.
  await open(page, '/client/customers');
  await page.getByLabel('New customer').fill('Short-lived client');
  await page.getByRole('button', { name: 'Add customer' }).click();
  const row = page.getByTestId('customers').locator('tr', { hasText: 'Short-lived client' });
  await row.waitFor();
  await row.getByRole('button', { name: 'Delete' }).click();
  await row.getByText('Delete Short-lived client?').waitFor();
  await row.getByRole('button', { name: 'Cancel' }).click();
  await open(page, '/client/customers');
  await expect(row.count()).resolves.toBe(1); // not deleted by asking
  await row.getByRole('button', { name: 'Delete' }).click();
  await row.getByRole('button', { name: 'Delete Short-lived client' }).click();
  await page.getByTestId('customer-deleted').waitFor();
  await expect(row.count()).resolves.toBe(0);

  // A lead, unsubscribed tenant-wide only after the question.
  await open(page, `/client/campaigns?customer=${customerId()}`);
  await page.getByRole('link', { name: 'Cold start' }).click();
  await ready(page);
  await page.getByTestId('import-form').getByLabel('…or paste it').fill('email,firstName\numa@lead.example,Uma');
  await page.getByTestId('import-form').getByRole('button', { name: 'Import' }).click();
  const lead = page.getByTestId('lead-uma@lead.example');
  await lead.waitFor();
  const status = () => lead.locator('td').nth(2).textContent();
  const before = await status();
  await lead.getByRole('button', { name: 'unsubscribe' }).click();
  await lead.getByText('No campaign will e-mail this address again').waitFor();
  await page.reload();
  await ready(page);
  await expect(status()).resolves.toBe(before);
  await lead.getByRole('button', { name: 'unsubscribe' }).click();
  await lead.getByRole('button', { name: 'Unsubscribe everywhere' }).click();
  await page.getByTestId('lead-uma@lead.example').filter({ hasText: 'unsubscribed' }).waitFor();

  // An inbox.
  await open(page, `/provider/inboxes?customer=${customerId()}`);
  const inboxRow = page.getByTestId('inbox-hello@newcomer.example');
  await inboxRow.getByRole('button', { name: 'Remove' }).click();
  await inboxRow.getByText('Remove hello@newcomer.example?').waitFor();
  await open(page, `/provider/inboxes?customer=${customerId()}`);
  await expect(inboxRow.count()).resolves.toBe(1);

  // An invitation.
  await open(page, '/provider/members');
  await page.getByLabel('E-mail', { exact: true }).fill('ivy@newcomer.example');
  await page.getByLabel('Name', { exact: true }).fill('Ivy');
  await page.getByRole('button', { name: 'Send invitation' }).click();
  const invite = page.getByTestId('invite-ivy@newcomer.example');
  await invite.waitFor();
  await invite.getByRole('button', { name: 'Withdraw' }).click();
  await invite.getByText('The link in their e-mail stops working').waitFor();
  await open(page, '/provider/members');
  await expect(invite.count()).resolves.toBe(1);
  await invite.getByRole('button', { name: 'Withdraw' }).click();
  await invite.getByRole('button', { name: 'Withdraw invitation' }).click();
  await expect(page.getByTestId('invite-ivy@newcomer.example').waitFor({ state: 'detached' })).resolves.toBeUndefined();

  expect(problems).toEqual([]);
  await close();
});

it('registers a tenant whose owner is invited: the slug pattern compiles, "Invite your team" waits for a team, and paying is confirmed', async () => {
  const admin = await walker(env('TF_E2E_ADMIN_EMAIL'), env('TF_E2E_ADMIN_PASSWORD'));
  await open(admin.page, '/platform');
  const n = Date.now().toString(36);
  const form = admin.page.getByTestId('register-form');
  await form.getByLabel('Name').first().fill(`Echo Events ${n}`);
  await form.getByLabel('Slug').fill(`echo-${n}`);
  // The browser checks the pattern (it compiles under the v flag) and accepts a good slug.
  await expect(form.getByLabel('Slug').evaluate((el) => (el as unknown as { validity: { valid: boolean } }).validity.valid)).resolves.toBe(true);
  await form.getByLabel('External customer id').fill(`crm-echo-${n}`);
  await form.getByLabel('Owner e-mail').fill(`eve-${n}@example.test`);
  await form.getByLabel('Owner name').fill('Eve Echo');
  await form.getByRole('button', { name: 'Register and provision' }).click();
  await admin.page.waitForURL(/\/platform\/tenants\/[0-9a-f-]{36}$/);
  await admin.page.getByTestId('progress-percent').filter({ hasText: '100%' }).waitFor({ timeout: 60_000 });
  expect(admin.problems).toEqual([]);
  await admin.close();

  // The owner accepts the invitation and finds the checklist honest.
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(await linkFor(`eve-${n}@example.test`));
  await ready(page);
  await page.getByLabel('Password').fill('eve chose this well');
  await page.getByRole('button', { name: /Accept/ }).click();
  await page.getByTestId('invite-accepted').waitFor();
  await signIn(page, base(), `eve-${n}@example.test`, 'eve chose this well');
  await open(page, '/');
  await page.getByTestId('onboarding-invite_team').waitFor();
  await expect(page.getByTestId('onboarding-invite_team').getAttribute('class')).resolves.not.toContain('done');

  // Paying is confirmed on the page the checkout returns to.
  await open(page, '/accounting/billing');
  await page.getByTestId('plan-pro').getByRole('button', { name: 'Choose Pro' }).click();
  await page.waitForURL(/local-checkout/);
  await page.getByRole('button', { name: 'Pay (test)' }).click();
  await page.waitForURL(/\/accounting\/billing\?checkout=done$/);
  await expect(page.getByTestId('checkout-done').textContent()).resolves.toContain('Payment received');
  expect(problems).toEqual([]);
  await context.close();

  // Without JavaScript the confirmation is in the page the server sends.
  const noJs = await browser.newContext({ javaScriptEnabled: false });
  const plain = await noJs.newPage();
  await plain.goto(`${base()}/login`);
  await plain.getByLabel('E-mail').fill(`eve-${n}@example.test`);
  await plain.getByLabel('Password').fill('eve chose this well');
  await plain.getByRole('button', { name: 'Sign in' }).click();
  await plain.getByTestId('current-user').waitFor();
  await plain.goto(`${base()}/accounting/billing?checkout=done`);
  await plain.getByTestId('checkout-done').waitFor();
  await plain.goto(`${base()}/accounting/client-billing?paid=inv_00000000000000000000000000`);
  await expect(plain.getByTestId('invoice-paid').textContent()).resolves.toContain('Payment received');
  await noJs.close();
});

it('asks before cancelling a backfill, and shows a completed run at 100 % with its batches', async () => {
  const { page, problems, close } = await walker(env('TF_E2E_ADMIN_EMAIL'), env('TF_E2E_ADMIN_PASSWORD'));
  await open(page, '/platform/backfills/leads-email-domain');

  // A slow run (a long pause between batches), to cancel.
  await page.getByLabel('Pause ms').first().fill('20000');
  await page.getByTestId('backfill-start').click();
  const cancel = page.getByTestId('backfill-cancel');
  await cancel.waitFor({ timeout: 30_000 });
  await cancel.getByRole('button', { name: 'Cancel' }).first().click();
  await cancel.getByText('Cancel this run?').waitFor();
  await page.waitForTimeout(2_000);
  await expect(page.getByTestId('backfill-state').textContent()).resolves.not.toBe('cancelled');
  await cancel.getByRole('button', { name: 'Cancel the run' }).click();
  await page.getByTestId('backfill-state').filter({ hasText: 'cancelled' }).waitFor({ timeout: 90_000 });

  // A run to the end: every lead already has its domain (the product writes it), and the run still ends at 100 %.
  await open(page, '/platform/backfills/leads-email-domain');
  await page.getByTestId('backfill-start').click();
  await page.getByTestId('backfill-state').filter({ hasText: 'completed' }).waitFor({ timeout: 120_000 });
  await expect(page.getByTestId('backfill-percent').textContent()).resolves.toBe('100%');
  // One batch took the tenant's 24 leads: the chart draws it (a one-point line used to draw nothing).
  await expect(page.getByTestId('backfill-chart').locator('circle.batch').count()).resolves.toBeGreaterThan(0);
  const line = await page.getByTestId('backfill-chart').locator('polyline').first().getAttribute('points');
  expect(line!.trim().split(/\s+/).length).toBeGreaterThanOrEqual(2);
  await expect(page.getByTestId('backfill-rows-note').textContent()).resolves.toContain('already had a value');
  await page.screenshot({ path: await screenshotPath('newcomer-backfill-completed'), fullPage: true });

  expect(problems).toEqual([]);
  await close();
});
