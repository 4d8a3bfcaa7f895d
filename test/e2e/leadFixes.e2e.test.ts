// The "unknown variable" journey as a new user walked it, in the running
// product: a step using a variable no lead has is refused when it is saved,
// with the error next to the field; a campaign shows before its start which
// leads lack a value; after the start those leads pause; one is fixed in the
// campaign's fix-and-resume form, another on its own lead page, both are
// resumed from the console and their messages appear in the Outbox; and a
// CSV re-import that updates leads already there says how many it updated.
// No page of the walk throws.
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { type DataSource } from 'typeorm';
import { type User } from '../../db/entities';
import { openDataSource } from '../helpers/database';
import { addMember, createTenant, createUser, PASSWORD, type TenantFixture } from '../helpers/fixtures';
import { env, launchBrowser, ready, screenshotPath, signIn } from './browser';

let browser: Browser;
let owner: DataSource;
let tenant: TenantFixture;
let user: User;

beforeAll(async () => {
  owner = await openDataSource(env('TF_E2E_DATABASE_URL'), 'tenantflow-e2e-seed');
  tenant = await createTenant(owner, { name: 'Hotel Leads', customers: 1 });
  user = await createUser(owner, { name: 'Hana Hotel' });
  await addMember(owner, tenant, user, 'owner');
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await owner?.destroy();
});

/** Calls the API as the signed-in person (for set-up the walk does not cover: an inbox and a campaign). */
async function apiAs(context: BrowserContext, method: string, path: string, body: unknown, customerId: string): Promise<{ id: string }> {
  const session = (await context.cookies()).find((c) => c.name === 'tf_session');
  const res = await fetch(`${env('TF_E2E_API_URL')}${path}`, {
    method,
    headers: { cookie: `tf_session=${session!.value}`, 'content-type': 'application/json', 'x-customer-id': customerId },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as { id: string };
}

/** Reloads the page until `testid` shows (pages that do not refresh themselves). */
async function reloadUntil(page: Page, testid: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await page.getByTestId(testid).count())) {
    if (Date.now() > deadline) throw new Error(`${testid} did not appear`);
    await page.waitForTimeout(1000);
    await page.reload();
    await ready(page);
  }
}

it('refuses an unknown variable, shows the leads lacking values, and fixes and resumes them from the console until they are sent', async () => {
  const base = env('TF_E2E_CONSOLE_URL');
  const customer = tenant.customers[0]!;
  const context = await browser.newContext();
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(`${page.url()}: ${e.message}`));
  await signIn(page, base, user.email, PASSWORD);

  // A sequence: the unknown variable is refused when the step is added, and again when a step is changed to use it.
  await page.goto(`${base}/client/sequences?customer=${customer.id}`);
  await ready(page);
  await page.getByLabel('New sequence').fill('Hotel intro');
  await page.getByRole('button', { name: 'Create sequence' }).click();
  const add = page.getByTestId('add-step-form');
  await add.waitFor();
  await ready(page);
  await expect(page.getByTestId('available-variables').textContent()).resolves.toContain('{{firstName}}');
  await add.getByLabel('Subject').fill('Rooms for {{firstName}}');
  await add.getByLabel('Body').fill('Hi {{firstName}}, a note for the {{industry}} trade.');
  await add.getByRole('button', { name: 'Add step' }).click();
  await page.getByTestId('add-step-error-body').filter({ hasText: '{{industry}} is not a lead field' }).waitFor();
  await expect(page.getByTestId('add-step-error-body').textContent()).resolves.toContain('Use firstName, lastName, company, email');
  await expect(page.getByTestId('steps').locator(':scope > li').count()).resolves.toBe(0);
  await add.getByLabel('Body').fill('Hi {{firstName}}, a note for {{company}}.');
  await add.getByRole('button', { name: 'Add step' }).click();
  await page.getByTestId('step-1').waitFor();
  const step = page.getByTestId('step-1');
  await step.getByLabel('Subject').fill('Rooms in {{industry}}');
  await step.getByRole('button', { name: 'Save step' }).click();
  await page.getByTestId('step-1-error-subject').filter({ hasText: '{{industry}} is not a lead field' }).waitFor();
  // Nothing was saved: the preview still shows the step as it was.
  await page.reload();
  await ready(page);
  await expect(page.getByTestId('step-1').getByLabel('Subject').inputValue()).resolves.toBe('Rooms for {{firstName}}');

  // A campaign (set up through the API) takes the sequence; three leads, two without a first name.
  const inbox = await apiAs(
    context,
    'POST',
    '/api/inboxes',
    {
      provider: 'smtp',
      fromEmail: 'hello@hotel.example',
      fromName: 'Hotel',
      dailyCap: 100,
      smtp: { host: '127.0.0.1', port: Number(env('TF_E2E_SMTP_SINK_PORT')), secure: false },
    },
    customer.id,
  );
  const campaign = await apiAs(
    context,
    'POST',
    '/api/campaigns',
    { name: 'Hotel spring', inboxIds: [inbox.id], schedule: { timezone: 'UTC', days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '24:00' } },
    customer.id,
  );
  await page.goto(`${base}/client/campaigns/${campaign.id}?customer=${customer.id}`);
  await ready(page);
  await page.getByTestId('sequence-form').getByRole('button', { name: 'Use this sequence' }).click();
  await page.getByTestId('readiness').waitFor();
  const importForm = page.getByTestId('import-form');
  await importForm
    .getByLabel('…or paste it')
    .fill('email,firstName,company\nann@inn.example,Ann,Inn Ltd\nbo@lodge.example,,Lodge Co\ncy@motel.example,,Motel Inc\n');
  await importForm.getByRole('button', { name: 'Import' }).click();
  await expect(page.getByTestId('import-result').textContent()).resolves.toBe('3 added, 0 skipped.');

  // Before the start, the page names the leads that lack a value.
  await page.getByTestId('lacking-bo@lodge.example').waitFor();
  await expect(page.getByTestId('lacking-cy@motel.example').textContent()).resolves.toContain('{{firstName}}');
  await expect(page.getByTestId('lacking-ann@inn.example').count()).resolves.toBe(0);

  // After the start they pause at the step; the fix-and-resume form lists them.
  await page.getByTestId('campaign-start').click();
  await page.getByTestId('campaign-status').filter({ hasText: 'active' }).waitFor();
  const fixBo = page.getByTestId('fix-bo@lodge.example');
  await fixBo.waitFor({ timeout: 60_000 });
  await page.getByTestId('fix-cy@motel.example').waitFor({ timeout: 60_000 });
  await page.screenshot({ path: await screenshotPath('lead-fixes-campaign'), fullPage: true });

  // Bo is fixed in the bulk form: one submit saves and resumes.
  await fixBo.getByLabel('firstName').fill('Bo');
  await page.getByTestId('fix-and-resume').getByRole('button', { name: 'Save and resume' }).click();
  await expect(page.getByTestId('fix-result').textContent()).resolves.toContain('1 resumed; 1 still lacks a value');

  // Cy is fixed on the lead's own page, then resumed there.
  await page.goto(`${base}/client/leads?customer=${customer.id}`);
  await ready(page);
  await page.getByTestId('lead-search').getByLabel('Search').fill('motel');
  await page.getByTestId('lead-search').getByRole('button', { name: 'Search' }).click();
  await page.waitForURL(/q=motel/);
  await expect(page.getByTestId('leads').locator('tbody tr').count()).resolves.toBe(1);
  await page.getByTestId('lead-cy@motel.example').getByRole('link').click();
  await page.getByTestId('lead-title').waitFor();
  await ready(page);
  const enrollment = page.getByTestId(`enrollment-${campaign.id}`);
  await expect(enrollment.textContent()).resolves.toContain('missing value for {{firstName}}');
  await page.getByTestId('lead-form').getByLabel('First name').fill('Cy');
  await page.getByTestId('lead-form').getByRole('button', { name: 'Save lead' }).click();
  await page.getByTestId('lead-saved').waitFor();
  await expect(page.getByTestId('lead-title').textContent()).resolves.toBe('Cy');
  await enrollment.getByRole('button', { name: 'Resume' }).click();
  await enrollment.getByRole('button', { name: 'Resume' }).waitFor({ state: 'detached' });
  await page.screenshot({ path: await screenshotPath('lead-detail'), fullPage: true });

  // Both are sent: the Outbox shows their messages, with the values filled in.
  await page.goto(`${base}/provider/outbox?customer=${customer.id}`);
  await ready(page);
  for (const to of ['ann@inn.example', 'bo@lodge.example', 'cy@motel.example']) await reloadUntil(page, `outbox-${to}`);
  await expect(page.getByTestId('outbox-bo@lodge.example').textContent()).resolves.toContain('Rooms for Bo');
  await expect(page.getByTestId('outbox-cy@motel.example').textContent()).resolves.toContain('Rooms for Cy');

  // A CSV re-import that updates the leads already here says so.
  await page.goto(`${base}/client/campaigns/${campaign.id}?customer=${customer.id}`);
  await ready(page);
  const reimport = page.getByTestId('import-form');
  await reimport
    .getByLabel('…or paste it')
    .fill('email,firstName,company\nann@inn.example,Ann,Inn Group\nbo@lodge.example,Bo,Lodge Co\ndi@hostel.example,Di,Hostel\n');
  await reimport.getByLabel('Update leads that are already here').check();
  await reimport.getByRole('button', { name: 'Import' }).click();
  await expect(page.getByTestId('import-result').textContent()).resolves.toBe('1 added, 1 updated, 1 unchanged.');

  expect(pageErrors).toEqual([]);
  await context.close();
});
