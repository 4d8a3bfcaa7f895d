// Sequences in the console: the customer picker shows only real customers (an
// empty state when there are none — never a made-up one), sequences are created
// and edited for the chosen customer (the API refuses sequence calls without
// X-Customer-Id, so every one of these succeeding shows the console sent it),
// the preview fills in variables, and the browser console stays quiet.
import { type Browser, type ConsoleMessage } from 'playwright-core';
import { type DataSource } from 'typeorm';
import { type User } from '../../db/entities';
import { openDataSource } from '../helpers/database';
import { addMember, createTenant, createUser, PASSWORD, type TenantFixture } from '../helpers/fixtures';
import { env, launchBrowser, ready, screenshotPath, signIn } from './browser';

let browser: Browser;
let owner: DataSource;
let echo: TenantFixture;
let eve: User;
let frank: User;

beforeAll(async () => {
  owner = await openDataSource(env('TF_E2E_DATABASE_URL'), 'tenantflow-e2e-seed');
  echo = await createTenant(owner, { name: 'Echo Agency', customers: 2 });
  const empty = await createTenant(owner, { name: 'Foxtrot Painting' });
  eve = await createUser(owner, { name: 'Eve Echo' });
  frank = await createUser(owner, { name: 'Frank Foxtrot' });
  await addMember(owner, echo, eve, 'owner');
  await addMember(owner, empty, frank, 'owner');
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await owner?.destroy();
});

async function signedInPage(user: User) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const consoleMessages: string[] = [];
  page.on('console', (m: ConsoleMessage) => consoleMessages.push(`${m.type()}: ${m.text()}`));
  await signIn(page, env('TF_E2E_CONSOLE_URL'), user.email, PASSWORD);
  return { context, page, consoleMessages };
}

it('creates and edits a sequence for the chosen customer, with a live preview', async () => {
  const base = env('TF_E2E_CONSOLE_URL');
  const [first, second] = echo.customers as [TenantFixture['customers'][0], TenantFixture['customers'][0]];
  const { context, page, consoleMessages } = await signedInPage(eve);
  await page.getByRole('link', { name: 'Clients', exact: true }).click();
  await page.getByRole('link', { name: 'Sequences' }).click();

  // Only the tenant's real customers.
  await page.getByTestId('customer-picker').waitFor();
  const options = await page.getByTestId('customer-picker').locator('option').allTextContents();
  expect(options.sort()).toEqual([first.name, second.name].sort());
  await page.getByTestId('customer-picker').locator('select').selectOption({ label: second.name });
  await page.waitForURL(/customer=cust_/);
  await ready(page);

  await page.getByLabel('New sequence').fill('Launch');
  await page.getByRole('button', { name: 'Create sequence' }).click();
  await page.getByTestId('sequence-name').filter({ hasText: 'Launch' }).waitFor();

  const add = page.getByTestId('add-step-form');
  await add.getByLabel('Subject').fill('Hi {{firstName}}');
  await add.getByLabel('Body').fill('Welcome to {{company}}');
  await add.getByRole('button', { name: 'Add step' }).click();
  await page.getByTestId('step-1').waitFor();
  await expect(page.getByTestId('preview-1').textContent()).resolves.toContain('Hi Ada');
  await expect(page.getByTestId('preview-1').textContent()).resolves.toContain('Welcome to Analytical Engines');

  await add.getByLabel('Wait (hours) after the previous step').fill('48');
  await add.getByLabel('Subject').fill('Following up, {{firstName}}');
  await add.getByLabel('Body').fill('Any thoughts?');
  await add.getByRole('button', { name: 'Add step' }).click();
  await page.getByTestId('step-2').waitFor();

  // A malformed variable gets an error next to the field, and nothing is added.
  await add.getByLabel('Subject').fill('Broken {{first name}}');
  await add.getByLabel('Body').fill('x');
  await add.getByRole('button', { name: 'Add step' }).click();
  await add.getByText('malformed variable').waitFor();
  await expect(page.getByTestId('steps').locator(':scope > li').count()).resolves.toBe(2);

  // Edit step 2, delete step 1: step 2 moves up.
  await page.getByTestId('step-2').getByLabel('Subject').fill('Quick follow-up, {{firstName}}');
  await page.getByTestId('step-2').getByRole('button', { name: 'Save step' }).click();
  await page.getByTestId('preview-2').filter({ hasText: 'Quick follow-up, Ada' }).waitFor();
  await page.getByTestId('step-1').getByRole('button', { name: 'Delete step' }).click();
  await page.getByTestId('step-1').getByRole('button', { name: 'Yes, delete step' }).click();
  await page.getByTestId('preview-1').filter({ hasText: 'Quick follow-up, Ada' }).waitFor();
  await expect(page.getByTestId('steps').locator(':scope > li').count()).resolves.toBe(1);
  // The remaining step's edit form shows its own values (not blanks after the form reset).
  await expect(page.getByTestId('step-1').getByLabel('Body').inputValue()).resolves.toBe('Any thoughts?');
  await expect(page.getByTestId('step-1').getByLabel('Wait (hours) after the previous step').inputValue()).resolves.toBe('48');
  await expect(page.getByTestId('step-1').getByLabel('Subject').inputValue()).resolves.toBe('Quick follow-up, {{firstName}}');
  await page.screenshot({ path: await screenshotPath('sequence-editor'), fullPage: true });

  // The sequence belongs to the chosen customer only.
  await page.goto(`${base}/client/sequences?customer=${first.id}`);
  await ready(page);
  await page.getByTestId('sequences-empty').waitFor();
  await page.goto(`${base}/client/sequences?customer=${second.id}`);
  await expect(page.getByTestId('sequences').textContent()).resolves.toContain('Launch');

  expect(consoleMessages).toEqual([]);
  await context.close();
});

it('never invents a customer: a tenant without customers sees an empty state', async () => {
  const { context, page, consoleMessages } = await signedInPage(frank);
  await page.goto(`${env('TF_E2E_CONSOLE_URL')}/client/sequences`);
  await page.getByTestId('no-customers').waitFor();
  await expect(page.getByTestId('customer-picker').count()).resolves.toBe(0);
  await expect(page.getByTestId('new-sequence-form').count()).resolves.toBe(0);
  const html = await page.content();
  expect(html).not.toMatch(/prod-customer-1|Default Customer/i);
  expect(consoleMessages).toEqual([]);
  await context.close();
});

it('adds an SMTP inbox for the chosen customer (the password is stored, never shown) and changes its daily cap', async () => {
  const base = env('TF_E2E_CONSOLE_URL');
  const customer = echo.customers[0]!;
  const { context, page, consoleMessages } = await signedInPage(eve);
  await page.goto(`${base}/provider/inboxes?customer=${customer.id}`);
  await ready(page);
  await page.getByTestId('inboxes-empty').waitFor();
  const add = page.getByTestId('add-inbox-form');
  await add.getByLabel('From address').fill('hello@echo.example');
  await add.getByLabel('From name').fill('Echo Hello');
  await add.getByLabel('SMTP host').fill('smtp.echo.example');
  await add.getByLabel('SMTP user').fill('hello');
  await add.getByLabel('SMTP password').fill('never-shown-secret');
  await add.getByRole('button', { name: 'Add inbox' }).click();
  const row = page.getByTestId('inbox-hello@echo.example');
  await row.waitFor();
  await expect(row.textContent()).resolves.toContain('password stored');
  expect(await page.content()).not.toContain('never-shown-secret');

  await row.getByLabel('Daily cap of hello@echo.example').fill('15');
  await row.getByRole('button', { name: 'Save' }).click();
  await page.waitForLoadState('networkidle');
  await page.reload();
  await expect(page.getByTestId('inbox-hello@echo.example').getByLabel('Daily cap of hello@echo.example').inputValue()).resolves.toBe('15');
  expect(consoleMessages).toEqual([]);
  await context.close();
});
