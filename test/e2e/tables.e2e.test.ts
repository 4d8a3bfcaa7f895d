// The console's lists, as a person uses them: a column header sorts the whole
// list (not just the page shown), with and without JavaScript; the next page
// keeps the order; a status filter narrows the list; an empty list says what
// to do. New campaigns and inboxes start from the tenant's own defaults.
import { type Browser, type Page } from 'playwright-core';
import { type DataSource } from 'typeorm';
import { type User } from '../../db/entities';
import { newId } from '../../db/ids';
import { withTenant } from '../../db/tenantContext';
import { openDataSource } from '../helpers/database';
import { addMember, createTenant, createUser, PASSWORD, type TenantFixture } from '../helpers/fixtures';
import { env, launchBrowser, ready, signIn } from './browser';

let browser: Browser;
let owner: DataSource;
let t: TenantFixture;
let tess: User;
const base = () => env('TF_E2E_CONSOLE_URL');
// Thirty clients and a few odd names: more than one page of 25.
const NAMES = [...Array.from({ length: 30 }, (_, i) => `Client ${String(i + 1).padStart(2, '0')}`), 'apple', 'Zest'];
const CAMPAIGNS: [string, string][] = [
  ['Spring', 'paused'],
  ['Autumn', 'draft'],
  ['Winter', 'active'],
];

beforeAll(async () => {
  owner = await openDataSource(env('TF_E2E_DATABASE_URL'), 'tenantflow-e2e-seed');
  t = await createTenant(owner, { name: 'Tables Agency', customers: 2 });
  tess = await createUser(owner, { name: 'Tess Tables' });
  await addMember(owner, t, tess, 'owner');
  await withTenant(owner, t.tenant.id, async (m) => {
    for (const name of NAMES) await m.query('INSERT INTO customers (id, tenant_id, name) VALUES ($1, $2, $3)', [newId('cust'), t.tenant.id, name]);
    for (const [name, status] of CAMPAIGNS)
      await m.query(
        `INSERT INTO campaigns (id, tenant_id, customer_id, name, status, timezone, days, window_start, window_end)
         VALUES ($1, $2, $3, $4, $5, 'UTC', '{1,2,3,4,5}', '09:00', '17:00')`,
        [newId('cmp'), t.tenant.id, t.customers[0]!.id, name, status],
      );
  });
  // What a home-services template gives a tenant.
  await owner.query('UPDATE tenants SET settings = $2::jsonb WHERE id = $1', [
    t.tenant.id,
    JSON.stringify({
      timezone: 'America/Chicago',
      sendWindow: { start: '08:00', end: '18:00', days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
      defaultDailyCap: 25,
    }),
  ]);
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await owner?.destroy();
});

const firstColumn = (page: Page, table: string) => page.getByTestId(table).locator('tbody tr td:first-child').allTextContents();
const all = () => [...NAMES, ...t.customers.map((c) => c.name)].map((n) => n.trim());
const byName = (names: string[]) => [...names].sort((x, y) => (x.toLowerCase() < y.toLowerCase() ? -1 : x.toLowerCase() > y.toLowerCase() ? 1 : 0));

it('sorts the whole customer list by a header link and pages on in that order, without JavaScript', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(`${base()}/login`);
  await page.getByLabel('E-mail').fill(tess.email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('current-user').waitFor();

  await page.goto(`${base()}/client/customers`);
  const header = page.getByTestId('customers').locator('th', { has: page.getByTestId('sort-name') });
  await expect(header.getAttribute('aria-sort')).resolves.toBe('ascending');
  const expected = byName(all());
  await expect(firstColumn(page, 'customers')).resolves.toEqual(expected.slice(0, 25));

  // The header reverses the order of the whole list: Zest, from the end of it, comes first.
  await page.getByTestId('sort-name').click();
  await page.waitForURL(/sort=-name/);
  await expect(header.getAttribute('aria-sort')).resolves.toBe('descending');
  const reversed = [...expected].reverse();
  await expect(firstColumn(page, 'customers')).resolves.toEqual(reversed.slice(0, 25));
  await page.getByTestId('customers-next').click();
  await page.waitForURL(/cursor=/);
  expect(page.url()).toContain('sort=-name');
  await expect(firstColumn(page, 'customers')).resolves.toEqual(reversed.slice(25));
  await expect(page.getByTestId('customers-next').count()).resolves.toBe(0);
  await page.getByTestId('pager-first').click();
  await expect(firstColumn(page, 'customers')).resolves.toEqual(reversed.slice(0, 25));

  // A search that finds nothing says so and offers the way back.
  await page.getByLabel('Search customers by name').fill('no such client');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page.getByTestId('customers-empty').textContent()).resolves.toContain('No customer matches');
  await page.getByTestId('customers-empty').getByRole('link', { name: 'Show all customers' }).click();
  await page.getByTestId('customers').waitFor();
  await context.close();
});

it('sorts campaigns by a header, filters them by status, and shows an empty list what to do, with JavaScript', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, base(), tess.email, PASSWORD);
  await page.goto(`${base()}/client/campaigns?customer=${t.customers[0]!.id}`);
  await ready(page);
  // Newest first by default (rows seeded in one millisecond have no order of their own to check).
  await expect(page.getByTestId('campaigns').locator('th[aria-sort="descending"]').textContent()).resolves.toContain('Created');
  await page.getByTestId('sort-name').click();
  await page.waitForURL(/sort=name/);
  await expect(firstColumn(page, 'campaigns')).resolves.toEqual(['Autumn', 'Spring', 'Winter']);
  await page.getByTestId('sort-status').click();
  await page.waitForURL(/sort=status/);
  await expect(firstColumn(page, 'campaigns')).resolves.toEqual(['Winter', 'Autumn', 'Spring']); // active, draft, paused
  await expect(page.getByTestId('campaigns').locator('th[aria-sort="ascending"]').textContent()).resolves.toContain('Status');

  await page.getByTestId('campaign-status-filter').selectOption('paused');
  await page.getByTestId('campaign-filters').getByRole('button', { name: 'Show' }).click();
  await page.waitForURL(/status=paused/);
  expect(page.url()).toContain('sort=status');
  await expect(firstColumn(page, 'campaigns')).resolves.toEqual(['Spring']);
  await page.getByTestId('campaign-status-filter').selectOption('archived');
  await page.getByTestId('campaign-filters').getByRole('button', { name: 'Show' }).click();
  await expect(page.getByTestId('campaigns-empty').textContent()).resolves.toContain('No campaign of');

  // A customer without leads is told where leads come from.
  await page.goto(`${base()}/client/leads?customer=${t.customers[1]!.id}`);
  await ready(page);
  await expect(page.getByTestId('leads-empty').textContent()).resolves.toContain('has no leads yet');
  await expect(page.locator('div.empty[data-testid="leads-empty"]').count()).resolves.toBe(1);
  await context.close();
});

it("starts a new campaign and a new inbox from the tenant's zone, window and daily cap", async () => {
  // A browser far from the tenant: the tenant's zone still wins.
  const context = await browser.newContext({ timezoneId: 'Asia/Tokyo' });
  const page = await context.newPage();
  await signIn(page, base(), tess.email, PASSWORD);
  await page.goto(`${base()}/client/campaigns?customer=${t.customers[1]!.id}`);
  await ready(page);
  const form = page.getByTestId('create-campaign-form');
  await expect(form.getByLabel('Time zone').inputValue()).resolves.toBe('America/Chicago');
  await expect(form.getByTestId('campaign-window-start').inputValue()).resolves.toBe('08:00');
  await expect(form.getByTestId('campaign-window-end').inputValue()).resolves.toBe('18:00');
  await expect(form.getByLabel('Sat').isChecked()).resolves.toBe(true);
  await expect(form.getByLabel('Sun').isChecked()).resolves.toBe(false);
  await page.goto(`${base()}/provider/inboxes?customer=${t.customers[1]!.id}`);
  await ready(page);
  await expect(page.getByTestId('new-inbox-cap').inputValue()).resolves.toBe('25');
  await context.close();
});
