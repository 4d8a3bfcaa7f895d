// Access in the console, as people use it: an owner signs in, switches
// tenant, clones a role and turns one permission off, gives a colleague that
// role — and the colleague's console stops offering the action while the API
// refuses it. Also: the forms work without JavaScript.
import { type Browser, type Page } from 'playwright-core';
import { type DataSource } from 'typeorm';
import { type User } from '../../db/entities';
import { openDataSource } from '../helpers/database';
import { addMember, createTenant, createUser, PASSWORD, type TenantFixture } from '../helpers/fixtures';
import { env, launchBrowser, ready, screenshotPath, signIn as browserSignIn } from './browser';

let browser: Browser;
let owner: DataSource;
let alpha: TenantFixture;
let bravo: TenantFixture;
let olivia: User;
let sam: User;

beforeAll(async () => {
  owner = await openDataSource(env('TF_E2E_DATABASE_URL'), 'tenantflow-e2e-seed');
  alpha = await createTenant(owner, { name: 'Alpha Agency', customers: 1 });
  bravo = await createTenant(owner, { name: 'Bravo Builders', customers: 1 });
  olivia = await createUser(owner, { name: 'Olivia Owner' });
  sam = await createUser(owner, { name: 'Sam Support' });
  await addMember(owner, alpha, olivia, 'owner');
  await addMember(owner, bravo, olivia, 'owner');
  await addMember(owner, bravo, sam, 'member');
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await owner?.destroy();
});

const signIn = (page: Page, email: string) => browserSignIn(page, env('TF_E2E_CONSOLE_URL'), email, PASSWORD);

it('owner switches tenant, clones a role and toggles a permission; the change is enforced in the console and by the API', async () => {
  const base = env('TF_E2E_CONSOLE_URL');
  const samContext = await browser.newContext();
  const samPage = await samContext.newPage();
  await signIn(samPage, sam.email);
  await samPage.goto(`${base}/client/customers`);
  await expect(samPage.getByTestId('new-customer-form').count()).resolves.toBe(1); // before: allowed

  const page = await browser.newPage();
  await signIn(page, olivia.email);
  await expect(page.getByTestId('current-tenant').textContent()).resolves.toBe('Alpha Agency');

  // Switch tenant.
  await page.getByTestId('tenant-switcher').locator('select').selectOption({ label: 'Bravo Builders' });
  await page.getByTestId('tenant-switcher').getByRole('button', { name: 'Switch' }).click();
  await page.getByTestId('current-tenant').filter({ hasText: 'Bravo Builders' }).waitFor();

  // Clone the member role ("Account manager" in the agency template) and turn customers.write off on the clone.
  await page.goto(`${base}/provider/roles`);
  await ready(page);
  await page.getByTestId('role-Account manager').getByRole('button', { name: 'Clone' }).click();
  const clone = page.getByTestId('role-Account manager (copy)');
  await clone.waitFor();
  // The grid: permissions (in words) down the side, roles across; a custom role's column has checkboxes, a system role's only marks.
  const grid = page.getByTestId('roles-grid');
  const cell = (role: string, permission: string) => grid.getByRole('checkbox', { name: `${role}: ${permission}`, exact: true });
  await expect(grid.getByRole('rowheader', { name: /Create, rename and delete customers/ }).count()).resolves.toBe(1);
  await expect(page.getByTestId('role-Account manager').textContent()).resolves.toContain('read-only');
  await expect(cell('Account manager', 'Create, rename and delete customers').count()).resolves.toBe(0);
  await cell('Account manager (copy)', 'Create, rename and delete customers').uncheck();
  await clone.getByRole('button', { name: 'Save permissions' }).click();
  await clone.getByTestId('saved').waitFor();
  await page.reload();
  await expect(cell('Account manager (copy)', 'Create, rename and delete customers').isChecked()).resolves.toBe(false);
  await expect(cell('Account manager (copy)', 'See customers').isChecked()).resolves.toBe(true);

  // Give Sam the new role.
  await page.goto(`${base}/provider/members`);
  await ready(page);
  const samRow = page.getByTestId(`member-${sam.email}`);
  await samRow.locator('select').selectOption({ label: 'Account manager (copy)' });
  await samRow.getByRole('button', { name: 'Save' }).click();
  await page.waitForLoadState('networkidle');
  await page.reload();
  await expect(page.getByTestId(`member-${sam.email}`).locator('select option:checked').textContent()).resolves.toBe('Account manager (copy)');
  await page.screenshot({ path: await screenshotPath('access-members'), fullPage: true });

  // Sam's console no longer offers creating a customer …
  await samPage.goto(`${base}/client/customers`);
  await samPage.getByTestId('customers').waitFor();
  await expect(samPage.getByTestId('new-customer-form').count()).resolves.toBe(0);
  await samPage.screenshot({ path: await screenshotPath('access-restricted-customers'), fullPage: true });

  // … and the API refuses it with Sam's own session.
  const session = (await samContext.cookies()).find((c) => c.name === 'tf_session');
  expect(session).toBeDefined();
  const refused = await fetch(`${env('TF_E2E_API_URL')}/api/customers`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie: `tf_session=${session!.value}` },
    body: JSON.stringify({ name: 'Should not exist' }),
  });
  expect(refused.status).toBe(403);
  const listed = await fetch(`${env('TF_E2E_API_URL')}/api/customers`, { headers: { cookie: `tf_session=${session!.value}` } });
  expect(listed.status).toBe(200);
  await samContext.close();
  await page.close();
});

it('works without JavaScript: sign in, see an error next to the field, create a customer', async () => {
  const base = env('TF_E2E_CONSOLE_URL');
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(`${base}/login`);
  await page.getByLabel('E-mail').fill(olivia.email);
  await page.getByLabel('Password').fill('wrong password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('login-error').textContent()).resolves.toContain('invalid e-mail or password');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('current-user').waitFor();
  await page.goto(`${base}/client/customers`);
  await page.getByLabel('New customer').fill('Made without JavaScript');
  await page.getByRole('button', { name: 'Add customer' }).click();
  await page.goto(`${base}/client/customers`);
  await expect(page.getByTestId('customers').textContent()).resolves.toContain('Made without JavaScript');
  await context.close();
});
