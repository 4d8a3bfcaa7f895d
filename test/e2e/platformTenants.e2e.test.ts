// The platform operator's tenant list: searched by name or slug and paged by
// cursor, with the search kept from page to page, with and without JavaScript.
import { type Browser } from 'playwright-core';
import { type DataSource } from 'typeorm';
import { openDataSource } from '../helpers/database';
import { createTenant } from '../helpers/fixtures';
import { env, launchBrowser, ready, signIn } from './browser';

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

it('searches tenants by name or slug and pages through the matches', async () => {
  const marker = `Paged${Date.now().toString(36)}`;
  // 53 matches: more than one page of 50.
  const made = [];
  for (let i = 0; i < 53; i++) made.push(await createTenant(seed, { name: `${marker} Tenant ${String(i).padStart(2, '0')}` }));
  const base = env('TF_E2E_CONSOLE_URL');

  for (const javaScriptEnabled of [true, false]) {
    const context = await browser.newContext({ javaScriptEnabled });
    const page = await context.newPage();
    if (javaScriptEnabled) await signIn(page, base, env('TF_E2E_ADMIN_EMAIL'), env('TF_E2E_ADMIN_PASSWORD'));
    else {
      await page.goto(`${base}/login`);
      await page.getByLabel('E-mail').fill(env('TF_E2E_ADMIN_EMAIL'));
      await page.getByLabel('Password').fill(env('TF_E2E_ADMIN_PASSWORD'));
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByTestId('current-user').waitFor();
    }
    await page.goto(`${base}/platform`);
    if (javaScriptEnabled) await ready(page);
    const search = page.getByTestId('tenant-search');
    await search.getByLabel('Search tenants by name or slug').fill(marker.toLowerCase());
    await search.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(new RegExp(`q=${marker.toLowerCase()}`));
    const rows = page.locator('[data-testid="tenants"] tbody tr');
    await expect(rows.count()).resolves.toBe(50);
    await expect(rows.first().textContent()).resolves.toContain(`${marker} Tenant 52`);

    await page.getByTestId('tenants-older').click();
    await page.waitForURL(/cursor=/);
    await expect(rows.allTextContents()).resolves.toEqual([
      expect.stringContaining(`${marker} Tenant 02`),
      expect.stringContaining(`${marker} Tenant 01`),
      expect.stringContaining(`${marker} Tenant 00`),
    ]);
    await expect(page.getByTestId('tenants-older').count()).resolves.toBe(0);
    await page.getByTestId('tenants-newest').click();
    await page.waitForURL((u) => !u.search.includes('cursor='));
    await expect(rows.count()).resolves.toBe(50);

    // By slug: exactly one.
    await page.goto(`${base}/platform?q=${made[7]!.tenant.slug}`);
    await expect(rows.allTextContents()).resolves.toEqual([expect.stringContaining(`${marker} Tenant 07`)]);
    // Nothing found says so.
    await page.goto(`${base}/platform?q=${marker}-none`);
    await expect(page.getByTestId('tenants-empty').textContent()).resolves.toContain('No tenant');
    await context.close();
  }
});
