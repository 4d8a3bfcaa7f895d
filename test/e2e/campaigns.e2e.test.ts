// Outreach in the console, end to end on the running product: an SMTP inbox
// on the local sink, a sequence, a campaign taking it, leads imported from
// CSV, then Start — and the per-step progress bars advance while the mail
// appears in the Outbox and in the sink.
import fs from 'node:fs';
import path from 'node:path';
import { type Browser, type ConsoleMessage, type Page } from 'playwright-core';
import { type DataSource } from 'typeorm';
import { type User } from '../../db/entities';
import { openDataSource } from '../helpers/database';
import { addMember, createTenant, createUser, PASSWORD, type TenantFixture } from '../helpers/fixtures';
import { env, launchBrowser, ready, screenshotPath, signIn } from './browser';

let browser: Browser;
let owner: DataSource;
let golf: TenantFixture;
let gina: User;

beforeAll(async () => {
  owner = await openDataSource(env('TF_E2E_DATABASE_URL'), 'tenantflow-e2e-seed');
  golf = await createTenant(owner, { name: 'Golf Outreach', customers: 1 });
  gina = await createUser(owner, { name: 'Gina Golf' });
  await addMember(owner, golf, gina, 'owner');
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await owner?.destroy();
});

const progress = async (page: Page, step: number) => Number(await page.getByTestId(`step-${step}-progress`).getAttribute('value'));

it('creates a sequence and a campaign, imports leads from CSV, starts it, and watches the outbox fill while the progress bars advance', async () => {
  const base = env('TF_E2E_CONSOLE_URL');
  const customer = golf.customers[0]!;
  const context = await browser.newContext();
  const page = await context.newPage();
  const consoleMessages: string[] = [];
  page.on('console', (m: ConsoleMessage) => consoleMessages.push(`${m.type()}: ${m.text()}`));
  await signIn(page, base, gina.email, PASSWORD);

  // An inbox on the local SMTP sink (the form offers it).
  await page.goto(`${base}/provider/inboxes?customer=${customer.id}`);
  await ready(page);
  const inbox = page.getByTestId('add-inbox-form');
  await expect(inbox.getByLabel('SMTP port').inputValue()).resolves.toBe(env('TF_E2E_SMTP_SINK_PORT'));
  await inbox.getByLabel('From address').fill('hello@golf.example');
  await inbox.getByLabel('From name').fill('Golf Hello');
  await inbox.getByLabel('Daily cap').fill('100');
  await inbox.getByRole('button', { name: 'Add inbox' }).click();
  await page.getByTestId('inbox-hello@golf.example').waitFor();

  // A two-step sequence.
  await page.goto(`${base}/client/sequences?customer=${customer.id}`);
  await ready(page);
  await page.getByLabel('New sequence').fill('Golf intro');
  await page.getByRole('button', { name: 'Create sequence' }).click();
  const add = page.getByTestId('add-step-form');
  await add.waitFor();
  await add.getByLabel('Subject').fill('Tee time, {{firstName}}?');
  await add.getByLabel('Body').fill('Hi {{firstName}}, {{company}} deserves a better swing.');
  await add.getByRole('button', { name: 'Add step' }).click();
  await page.getByTestId('step-1').waitFor();
  await add.getByLabel('Subject').fill('Still up for a round, {{firstName}}?');
  await add.getByLabel('Body').fill('Just checking in.');
  await add.getByRole('button', { name: 'Add step' }).click();
  await page.getByTestId('step-2').waitFor();

  // A campaign that may send any day, all day.
  await page.goto(`${base}/client/campaigns?customer=${customer.id}`);
  await ready(page);
  await page.getByTestId('campaigns-empty').waitFor();
  const create = page.getByTestId('create-campaign-form');
  await create.getByLabel('Name').fill('Spring swing');
  for (const day of ['Sat', 'Sun']) await create.getByLabel(day).check();
  await create.getByLabel('From').fill('00:00');
  await create.getByLabel('Until').fill('23:59');
  await create.getByLabel('Time zone').selectOption('UTC');
  await create.getByRole('button', { name: 'Create campaign' }).click();
  await page.waitForURL(/\/campaigns\/cmp_/);
  await ready(page);
  await expect(page.getByTestId('campaign-status').textContent()).resolves.toBe('draft');

  await page.getByTestId('sequence-form').getByRole('button', { name: 'Use this sequence' }).click();
  await page.getByText('Tee time, {{firstName}}?').waitFor();

  // Leads from CSV: one duplicate row is skipped.
  const csv = [
    'email,firstName,company',
    'amy@fairway.example,Amy,Fairway Ltd',
    'bo@bunker.example,Bo,Bunker & Co',
    'cy@green.example,Cy,Green Inc',
    'AMY@fairway.example,Amy,Fairway Ltd',
  ].join('\n');
  const importForm = page.getByTestId('import-form');
  await importForm.getByLabel('…or paste it').fill(csv);
  await importForm.getByRole('button', { name: 'Import' }).click();
  await expect(page.getByTestId('import-result').textContent()).resolves.toBe('3 added, 1 skipped.');
  await page.getByTestId('lead-bo@bunker.example').waitFor();
  await expect(progress(page, 1)).resolves.toBe(0);
  await expect(progress(page, 2)).resolves.toBe(0);

  // Filter and search the lead table.
  await page.getByTestId('lead-filters').getByLabel('Search').fill('bunker');
  await page.getByTestId('lead-filters').getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL(/q=bunker/);
  await expect(page.getByTestId('leads').locator('tbody tr').count()).resolves.toBe(1);
  await page.getByTestId('lead-filters').getByLabel('Search').fill('');
  await page.getByTestId('lead-filters').getByRole('button', { name: 'Filter' }).click();
  await page.getByTestId('lead-cy@green.example').waitFor();

  // Start, and watch the bars fill without reloading.
  await page.getByTestId('campaign-start').click();
  await page.getByTestId('campaign-status').filter({ hasText: 'active' }).waitFor();
  await page.evaluate(() => ((globalThis as unknown as { stillHere: boolean }).stillHere = true));
  const deadline = Date.now() + 60_000;
  while ((await progress(page, 2)) < 3) {
    if (Date.now() > deadline) throw new Error(`progress stuck at ${await page.getByTestId('step-2-count').textContent()}`);
    await page.waitForTimeout(250);
  }
  // The same page, never reloaded: the bars moved on their own.
  await expect(page.evaluate(() => (globalThis as unknown as { stillHere?: boolean }).stillHere)).resolves.toBe(true);
  await expect(progress(page, 1)).resolves.toBe(3);
  await expect(page.getByTestId('step-2-count').textContent()).resolves.toContain('3 / 3 sent');
  await expect(page.getByTestId('stat-sent').textContent()).resolves.toBe('6');
  // Every enrollment has finished: the campaign completes by itself.
  await page.getByTestId('campaign-status').filter({ hasText: 'completed' }).waitFor({ timeout: 30_000 });
  await page.screenshot({ path: await screenshotPath('campaign-progress'), fullPage: true });

  // The outbox shows what went out; the sink received it.
  await page.getByRole('link', { name: 'Provider', exact: true }).click();
  await page.getByRole('link', { name: 'Sending health' }).click();
  await page.getByTestId('outbox').waitFor();
  for (const to of ['amy@fairway.example', 'bo@bunker.example', 'cy@green.example']) await expect(page.getByTestId(`outbox-${to}`).count()).resolves.toBe(2);
  await page.getByTestId('outbox-amy@fairway.example').filter({ hasText: 'Tee time, Amy?' }).getByRole('button').click();
  await page.getByText('Fairway Ltd deserves a better swing.').waitFor();
  const sink = path.join(env('TF_E2E_DATA_DIR'), 'mail-sink');
  const files = fs.readdirSync(sink).map((f) => fs.readFileSync(path.join(sink, f), 'utf8'));
  expect(files.filter((f) => f.includes('To: bo@bunker.example'))).toHaveLength(2);
  // …and the console shows the copy the sink received (once).
  const row = page.getByTestId('outbox-cy@green.example').filter({ hasText: 'Tee time, Cy?' });
  await expect(row.getByRole('link', { name: 'received' }).textContent()).resolves.toBe('received');
  await row.getByRole('link', { name: 'received' }).click();
  await page.getByTestId('received').waitFor();
  await expect(page.getByTestId('received').textContent()).resolves.toContain('Subject: Tee time, Cy?');
  await page.screenshot({ path: await screenshotPath('outbox'), fullPage: true });

  expect(consoleMessages).toEqual([]);
  await context.close();
});
