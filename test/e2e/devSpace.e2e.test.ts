// The developers' space as an integrator uses it: issue an API token and see
// its secret once (a reload shows it no more), revoke it after confirming,
// then find both in the audit log with its filters; the webhook and API
// reference pages say what to configure and what there is to call.
import { type Browser, type Page } from 'playwright-core';
import { type DataSource } from 'typeorm';
import { type User } from '../../db/entities';
import { openDataSource } from '../helpers/database';
import { addMember, createTenant, createUser, PASSWORD, type TenantFixture } from '../helpers/fixtures';
import { env, launchBrowser, ready, signIn as browserSignIn } from './browser';

let browser: Browser;
let owner: DataSource;
let tenant: TenantFixture;
let dana: User;

beforeAll(async () => {
  owner = await openDataSource(env('TF_E2E_DATABASE_URL'), 'tenantflow-e2e-seed');
  tenant = await createTenant(owner, { name: 'Delta Devs', customers: 1 });
  dana = await createUser(owner, { name: 'Dana Developer' });
  await addMember(owner, tenant, dana, 'owner');
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await owner?.destroy();
});

/** Uncaught errors of a page, so a walk can assert there were none. */
function pageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  return errors;
}

const me = (token: string) => fetch(`${env('TF_E2E_API_URL')}/api/auth/me`, { headers: { authorization: `Bearer ${token}` } });

it('issues a token shown once, revokes it after confirming, and finds both in the filtered audit log', async () => {
  const base = env('TF_E2E_CONSOLE_URL');
  const page = await browser.newPage();
  const errors = pageErrors(page);
  await browserSignIn(page, base, dana.email, PASSWORD);

  // The space's navigation leads to its pages.
  await page.goto(`${base}/dev`);
  await page.waitForURL(`${base}/dev/tokens`);
  await ready(page);
  await expect(page.getByTestId('side-nav').getByRole('link', { name: 'Audit log' }).count()).resolves.toBe(1);
  await expect(page.getByTestId('tokens-empty').isVisible()).resolves.toBe(true);

  // A name is required: the error is next to the field, in plain words.
  await page.getByRole('button', { name: 'Issue token' }).click();
  await expect(page.locator('#name-error').textContent()).resolves.toContain('Give the token a name');

  // Issue: the secret shows once, with a warning and a copy button, and it works.
  await page.getByLabel('Name').fill('CI deploy');
  await page.getByRole('button', { name: 'Issue token' }).click();
  const issued = page.getByTestId('issued-token');
  await issued.waitFor();
  await expect(issued.textContent()).resolves.toContain('you will not see it again');
  await expect(issued.getByRole('button', { name: 'Copy' }).count()).resolves.toBe(1);
  const secret = await page.getByTestId('issued-secret').inputValue();
  expect(secret).toMatch(/^tf_[0-9a-f]{32}_/);
  expect((await me(secret)).status).toBe(200);
  const row = page.getByTestId('token-CI deploy');
  await expect(row.getAttribute('data-status')).resolves.toBe('active');
  await expect(row.textContent()).resolves.toContain(secret.slice(0, 12));
  await expect(row.textContent()).resolves.toContain('never');

  // A reload shows the list, never the secret again.
  await page.reload();
  await ready(page);
  await expect(page.getByTestId('issued-token').count()).resolves.toBe(0);
  expect(await page.content()).not.toContain(secret);
  await expect(page.getByTestId('token-CI deploy').count()).resolves.toBe(1);

  // Revoke asks first; only "yes" revokes, and the token stops working.
  const revoke = page.getByTestId('revoke-CI deploy');
  await revoke.getByRole('button', { name: 'Revoke' }).click();
  await expect(revoke.getByText('Programs using it stop working at once').isVisible()).resolves.toBe(true);
  expect((await me(secret)).status).toBe(200); // not yet
  await revoke.getByRole('button', { name: 'Yes, revoke' }).click();
  await page.locator('[data-testid="token-CI deploy"][data-status="revoked"]').waitFor();
  expect((await me(secret)).status).toBe(401);

  // The audit log, filtered by action through the form (a GET: the URL holds the filters).
  await page.getByTestId('side-nav').getByRole('link', { name: 'Audit log' }).click();
  await page.waitForURL(`${base}/dev/audit`);
  await ready(page);
  const filters = page.getByTestId('audit-filters');
  await filters.getByLabel('Action').selectOption({ label: 'Issued an API token' });
  await filters.getByRole('button', { name: 'Filter', exact: true }).click();
  await page.waitForURL(/action=token_issued/);
  const issuedRows = page.locator('[data-testid="audit"] tbody tr');
  await expect(issuedRows.count()).resolves.toBe(1);
  await expect(issuedRows.first().textContent()).resolves.toMatch(/Dana Developer.*Issued an API token.*API token “CI deploy”.*Succeeded/);

  await filters.getByLabel('Action').selectOption({ label: 'Revoked an API token' });
  await filters.getByLabel('Who').selectOption({ label: `Dana Developer (${dana.email})` });
  const today = new Date().toISOString().slice(0, 10);
  await filters.getByLabel('From (day)').fill(today);
  await filters.getByLabel('To (day)').fill(today);
  await filters.getByRole('button', { name: 'Filter', exact: true }).click();
  await page.waitForURL(/action=token_revoked/);
  await expect(issuedRows.count()).resolves.toBe(1);
  await expect(issuedRows.first().textContent()).resolves.toMatch(/Dana Developer.*Revoked an API token.*API token “CI deploy”/);

  // A range with nothing in it says so, and how to widen it.
  await page.goto(`${base}/dev/audit?action=token_revoked&to=2001-01-01`);
  await ready(page);
  await expect(page.getByTestId('audit-empty').textContent()).resolves.toContain('No entries match these filters');
  // A malformed date is refused next to its field, in words.
  await page.goto(`${base}/dev/audit?from=yesterday`);
  await expect(page.locator('#from-error').textContent()).resolves.toContain('Enter a date');

  // Webhooks: the URL to configure and how deliveries are signed, never a secret.
  await page.goto(`${base}/dev/webhooks`);
  await ready(page);
  const smtp = page.getByTestId('webhook-smtp');
  await expect(smtp.getByTestId('webhook-url').textContent()).resolves.toBe(`POST ${env('TF_E2E_API_URL')}/api/webhooks/email/smtp`);
  await expect(smtp.textContent()).resolves.toContain('x-tenantflow-signature');

  // The API reference lists the operations by tag and links to the document.
  await page.goto(`${base}/dev/api`);
  await ready(page);
  await expect(page.getByTestId('api-group-tokens').textContent()).resolves.toContain('Issue an API token (the secret is shown once)');
  await expect(page.getByTestId('openapi-link').getAttribute('href')).resolves.toBe(`${env('TF_E2E_API_URL')}/api/openapi.json`);

  expect(errors).toEqual([]);
  await page.close();
});
