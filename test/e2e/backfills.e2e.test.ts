// A platform admin starts the seed-001 legacy backfill from the console and
// watches it: the bar reaches 100 %, rate and ETA and the batch chart show,
// and the finish phase puts NOT NULL, the foreign keys, the index and FORCE
// RLS on. The same run is one link away in the Temporal UI.
import { type Browser } from 'playwright-core';
import { type DataSource } from 'typeorm';
import { importLegacy, ownerPool } from '../helpers/backfill';
import { openDataSource } from '../helpers/database';
import { createTenant } from '../helpers/fixtures';
import { env, launchBrowser, ready, screenshotPath, signIn } from './browser';

let browser: Browser;
let owner: DataSource;

beforeAll(async () => {
  browser = await launchBrowser();
  owner = await openDataSource(env('TF_E2E_DATABASE_URL'));
});

afterAll(async () => {
  await browser?.close();
  await owner?.destroy();
});

it('starts a backfill from the console and watches the bar reach 100 % and the finish phase complete', async () => {
  // The legacy import: 30,000 bookings of two tenants, waiting for their tenant.
  const tenants = [(await createTenant(owner)).tenant.id, (await createTenant(owner)).tenant.id];
  const pool = ownerPool(env('TF_E2E_DATABASE_URL'));
  try {
    await importLegacy(pool, tenants, 30_000);
  } finally {
    await pool.end();
  }

  const base = env('TF_E2E_CONSOLE_URL');
  const page = await browser.newPage();
  await signIn(page, base, env('TF_E2E_ADMIN_EMAIL'), env('TF_E2E_ADMIN_PASSWORD'));
  await page.getByRole('link', { name: 'Platform' }).click();
  await page.getByTestId('backfills-link').click();
  await page.getByTestId('backfill-legacy-tenant-id').getByRole('link').click();
  await page.waitForURL(/\/platform\/backfills\/legacy-tenant-id$/);
  await ready(page);
  await expect(page.getByTestId('backfill-state').textContent()).resolves.toContain('never run');

  await page.getByLabel('Target batch ms').fill('100');
  await page.getByTestId('backfill-start').click();
  await page.getByTestId('backfill-pause').waitFor({ timeout: 30_000 });
  await page.getByTestId('backfill-chart').waitFor({ timeout: 30_000 });
  await page.getByTestId('backfill-percent').filter({ hasText: '100%' }).waitFor({ timeout: 90_000 });
  await page.getByTestId('backfill-state').filter({ hasText: 'completed' }).waitFor({ timeout: 90_000 });
  await expect(page.getByTestId('backfill-phase').textContent()).resolves.toBe('done');
  await expect(page.getByTestId('backfill-finish').textContent()).resolves.toBe('5 / 5');
  for (const step of [
    'not_null:tenant_id',
    'foreign_key:legacy_bookings_tenant_fk',
    'foreign_key:legacy_bookings_client_fk',
    'index:legacy_bookings_tenant_idx',
  ]) {
    await expect(page.getByTestId(`finish-${step}`).getAttribute('data-state')).resolves.toBe('done');
  }
  await expect(page.getByTestId('backfill-rows').textContent()).resolves.toMatch(/^30,000 \/ 30,000$/);
  await expect(page.getByTestId('orphan-total').textContent()).resolves.toBe('0');
  expect(await page.getByTestId('temporal-backfill-link').getAttribute('href')).toContain(encodeURIComponent('platform/backfill/legacy-tenant-id'));
  await page.screenshot({ path: await screenshotPath('backfill-complete'), fullPage: true });

  // The finish is real: the column is NOT NULL and the table under FORCE RLS.
  const [schema] = (await owner.query(
    "SELECT attnotnull, (SELECT relforcerowsecurity FROM pg_class WHERE relname = 'legacy_bookings') AS forced FROM pg_attribute WHERE attrelid = 'legacy_bookings'::regclass AND attname = 'tenant_id'",
  )) as { attnotnull: boolean; forced: boolean }[];
  expect(schema).toEqual({ attnotnull: true, forced: true });
});
