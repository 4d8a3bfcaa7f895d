// The console's charts, end to end on the running product: a campaign's
// daily chart is on its page before it starts, and grows without a reload
// while the campaign sends to the local sink; the Analytics page shows the
// customer's days, its website events and the export form. Chart.js draws
// under the strict CSP (browser.ts fails any test that breaks it).
import { type Browser, type Page } from 'playwright-core';
import { type DataSource } from 'typeorm';
import { type User } from '../../db/entities';
import { openDataSource } from '../helpers/database';
import { apiCall, apiSession, seedOutreach, type OutreachSeeds } from '../helpers/consoleSeed';
import { addMember, createTenant, createUser, type TenantFixture } from '../helpers/fixtures';
import { env, launchBrowser, ready, signIn } from './browser';
import { PASSWORD } from '../helpers/fixtures';
import { EXPORT_COLUMNS } from '../../lib/analyticsExport';

jest.setTimeout(180_000);

let browser: Browser;
let owner: DataSource;
let t: TenantFixture;
let hana: User;
let cookie: string;
let outreach: OutreachSeeds;
const base = () => env('TF_E2E_CONSOLE_URL');
const api = () => env('TF_E2E_API_URL');
const customer = () => t.customers[0]!.id;
const call = <T>(method: string, url: string, body?: unknown) => apiCall<T>(api(), cookie, method, url, body, customer());

beforeAll(async () => {
  owner = await openDataSource(env('TF_E2E_DATABASE_URL'), 'tenantflow-e2e-analytics');
  t = await createTenant(owner, { name: 'Hotel Analytics', customers: 1 });
  hana = await createUser(owner, { name: 'Hana Hotel' });
  await addMember(owner, t, hana, 'owner');
  cookie = await apiSession(api(), hana.email);
  outreach = await seedOutreach(api(), cookie, customer(), Number(env('TF_E2E_SMTP_SINK_PORT')));
  const more = ['ann', 'ben', 'cal', 'dee', 'eve'].map((n) => ({ email: `${n}@charts.example`, firstName: n, company: 'Charts' }));
  await call('POST', `/api/campaigns/${outreach.campaignId}/leads`, { leads: more });
  await call('POST', `/api/campaigns/${outreach.campaignId}/sequence`, { sequenceId: outreach.sequenceId });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await owner?.destroy();
});

/** Today's sends in the daily chart's numbers (the campaign's zone is UTC). */
const sentToday = async (page: Page) => {
  const today = new Date().toISOString().slice(0, 10);
  const cell = page.getByTestId('daily-chart-data').locator(`tr[data-label="${today}"] td[data-series="Sent"]`);
  return Number(await cell.textContent());
};

it("shows the campaign's daily chart, which grows while the campaign sends", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, base(), hana.email, PASSWORD);
  await page.goto(`${base()}/client/campaigns/${outreach.campaignId}?customer=${customer()}`);
  await ready(page);
  const chart = page.getByTestId('daily-chart');
  await chart.locator('canvas').waitFor();
  expect(await chart.getByRole('img').getAttribute('aria-label')).toMatch(/^Per day: Sent 0 in all/);
  expect((await chart.locator('canvas').boundingBox())!.width).toBeGreaterThan(100);
  await expect(sentToday(page)).resolves.toBe(0);
  await page.getByTestId('step-funnel').waitFor();
  await page.getByTestId('step-reply-rate').waitFor();

  await page.getByTestId('campaign-start').click();
  await page.getByTestId('campaign-status').filter({ hasText: 'active' }).waitFor();
  await page.evaluate(() => ((globalThis as unknown as { stillHere: boolean }).stillHere = true));
  const deadline = Date.now() + 90_000;
  while ((await sentToday(page)) < 6) {
    if (Date.now() > deadline) throw new Error(`the daily chart stayed at ${await sentToday(page)} sent today`);
    await page.waitForTimeout(500);
  }
  // The same page, refreshed in place: the chart followed the sends.
  expect(await page.evaluate(() => (globalThis as unknown as { stillHere?: boolean }).stillHere)).toBe(true);
  expect(await chart.getByRole('img').getAttribute('aria-label')).toMatch(/Sent 6 in all/);
  await context.close();
});

it('shows the Analytics page: the last 30 days, website events and the export form', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, base(), hana.email, PASSWORD);
  await page.goto(`${base()}/client/analytics?customer=${customer()}`);
  await ready(page);
  await expect(page.getByTestId('side-nav').getByRole('link', { name: 'Analytics' }).count()).resolves.toBe(1);
  await page.getByTestId('summary-chart').locator('canvas').waitFor();
  await expect(page.getByTestId('summary-chart-data').locator('tbody tr').count()).resolves.toBe(30);
  await page.getByTestId('cta-events').waitFor();
  const exportForm = page.getByTestId('analytics-export');
  await expect(exportForm.getByRole('button', { name: 'Download CSV' }).count()).resolves.toBe(1);

  // A range the API refuses is said beside the field, in plain words.
  await page.goto(`${base()}/client/analytics?customer=${customer()}&from=2026-03-10&to=2026-03-01`);
  await ready(page);
  await expect(page.getByTestId('analytics-range').locator('.error').count()).resolves.toBe(1);
  await context.close();
});

/** The text of a download the click starts. */
async function downloaded(page: Page, click: () => Promise<void>): Promise<string> {
  const [download] = await Promise.all([page.waitForEvent('download'), click()]);
  const stream = await download.createReadStream();
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

it("downloads the range's events as a CSV with the documented columns, the last day included", async () => {
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  await signIn(page, base(), hana.email, PASSWORD);
  const today = new Date().toISOString().slice(0, 10);
  await page.goto(`${base()}/client/analytics?customer=${customer()}&from=${today}&to=${today}&tz=UTC`);
  await ready(page);
  const csv = await downloaded(page, () => page.getByTestId('analytics-export').getByRole('button', { name: 'Download CSV' }).click());
  const lines = csv.trim().split('\n');
  expect(lines[0]).toBe(EXPORT_COLUMNS.join(','));
  // Today's events (the campaign's sends above) are in a range that ends today.
  expect(lines.filter((l) => l.includes(',message.sent,')).length).toBeGreaterThanOrEqual(6);
  await context.close();
});

it('prepares a long range as a file with its progress, and downloads it', async () => {
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  await signIn(page, base(), hana.email, PASSWORD);
  const today = new Date().toISOString().slice(0, 10);
  await page.goto(`${base()}/client/analytics?customer=${customer()}&from=2026-01-01&to=${today}&tz=UTC`);
  await ready(page);
  await page.getByTestId('prepare-form').getByRole('button', { name: 'Prepare a file' }).click();
  await page.getByTestId('export-progress').waitFor();
  const link = page.getByTestId('prepared-download');
  await link.waitFor({ timeout: 60_000 });
  expect(await page.getByTestId('export-progress').getAttribute('aria-valuenow')).toBe('100');
  const csv = await downloaded(page, () => link.click());
  const lines = csv.trim().split('\n');
  expect(lines[0]).toBe(EXPORT_COLUMNS.join(','));
  expect(lines.filter((l) => l.includes(',message.sent,')).length).toBeGreaterThanOrEqual(6);
  await context.close();
});
