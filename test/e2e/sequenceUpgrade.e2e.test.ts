// Moving a campaign's running leads to its latest sequence version, in the
// console on the running product: a campaign is started, its sequence edited
// and taken as a new version; the campaign page says how many leads run the
// older version and, once asked and confirmed, moves them (a toast with
// JavaScript, plain text without) and shows them on the new version.
import { type Browser, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core';
import { type DataSource } from 'typeorm';
import { type User } from '../../db/entities';
import { openDataSource } from '../helpers/database';
import { addMember, createTenant, createUser, PASSWORD, type TenantFixture } from '../helpers/fixtures';
import { env, launchBrowser, ready, screenshotPath, signIn } from './browser';

let browser: Browser;
let owner: DataSource;
let hotel: TenantFixture;
let hana: User;

beforeAll(async () => {
  owner = await openDataSource(env('TF_E2E_DATABASE_URL'), 'tenantflow-e2e-seed');
  hotel = await createTenant(owner, { name: 'Hotel Outreach', customers: 1 });
  hana = await createUser(owner, { name: 'Hana Hotel' });
  await addMember(owner, hotel, hana, 'owner');
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await owner?.destroy();
});

/** The API as the signed-in person calls it (their session cookie), for the set-up the walk does not look at. */
function apiAs(session: string, customerId: string) {
  return async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${env('TF_E2E_API_URL')}${path}`, {
      method,
      headers: { cookie: `tf_session=${session}`, 'x-customer-id': customerId, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
}

async function sessionOf(context: BrowserContext): Promise<string> {
  const cookie = (await context.cookies()).find((c) => c.name === 'tf_session');
  if (!cookie) throw new Error('not signed in');
  return cookie.value;
}

/** Reloads the page until `testid` shows (the leads start in the background). */
async function reloadUntil(page: Page, testid: string, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await page.getByTestId(testid).isVisible())) {
    if (Date.now() > deadline) throw new Error(`never saw ${what}`);
    await page.waitForTimeout(500);
    await page.reload();
    await ready(page);
  }
}

it('offers to move the leads running an older version, asks first, moves them, and shows them on the new version', async () => {
  const base = env('TF_E2E_CONSOLE_URL');
  const customer = hotel.customers[0]!;
  const context = await browser.newContext();
  const page = await context.newPage();
  const consoleMessages: string[] = [];
  const pageErrors: string[] = [];
  page.on('console', (m: ConsoleMessage) => consoleMessages.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await signIn(page, base, hana.email, PASSWORD);
  const api = apiAs(await sessionOf(context), customer.id);

  // Set-up: an inbox on the local sink, a two-step sequence whose second step
  // waits two days, a campaign that may send at any time, two leads.
  const inbox = await api<{ id: string }>('POST', '/api/inboxes', {
    provider: 'smtp',
    fromEmail: 'stay@hotel.example',
    fromName: 'Hotel Stay',
    dailyCap: 100,
    smtp: { host: '127.0.0.1', port: Number(env('TF_E2E_SMTP_SINK_PORT')), secure: false },
  });
  const sequence = await api<{ id: string }>('POST', '/api/sequences', { name: 'Hotel intro' });
  await api('POST', `/api/sequences/${sequence.id}/steps`, { subject: 'A room for {{firstName}}?', body: 'Hi {{firstName}}.', delayHours: 0 });
  const step2 = await api<{ id: string }>('POST', `/api/sequences/${sequence.id}/steps`, { subject: 'Still looking?', body: 'Just checking.', delayHours: 48 });
  const campaign = await api<{ id: string }>('POST', '/api/campaigns', {
    name: 'Autumn stays',
    inboxIds: [inbox.id],
    schedule: { timezone: 'UTC', days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '24:00' },
  });
  await api('POST', `/api/campaigns/${campaign.id}/sequence`, { sequenceId: sequence.id });
  await api('POST', `/api/campaigns/${campaign.id}/leads`, {
    leads: [
      { email: 'ivy@inn.example', firstName: 'Ivy' },
      { email: 'jo@lodge.example', firstName: 'Jo' },
    ],
  });

  // Start the campaign: both leads get step 1 and wait for step 2 on version 1.
  await page.goto(`${base}/client/campaigns/${campaign.id}?customer=${customer.id}`);
  await ready(page);
  await page.getByTestId('campaign-start').click();
  await page.getByTestId('campaign-status').filter({ hasText: 'active' }).waitFor();
  await reloadUntil(page, 'sequence-running', 'the running leads');
  await expect(page.getByTestId('sequence-running').textContent()).resolves.toContain('2 leads on version 1');
  expect(await page.getByTestId('sequence-upgrade').count()).toBe(0);

  // Edit the sequence's second step and take it as a new version: the leads stay on version 1.
  await api('PUT', `/api/sequences/${sequence.id}/steps/${step2.id}`, { subject: 'A better rate for {{firstName}}' });
  await page.getByTestId('sequence-form').getByRole('button', { name: 'Take as a new version' }).click();
  await page.getByText('A better rate for {{firstName}}').waitFor();
  const notice = page.getByTestId('sequence-upgrade');
  await notice.waitFor();
  await expect(notice.textContent()).resolves.toContain('2 leads run version 1; the sequence is now at version 2.');

  // The move asks first; Cancel leaves everything as it was.
  const confirm = page.getByTestId('sequence-upgrade-confirm');
  await confirm.getByText('Move to version 2').click();
  await confirm.getByText('Move 2 running leads to version 2?').waitFor();
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByTestId('sequence-running').textContent()).resolves.toContain('2 leads on version 1');
  await confirm.getByText('Move to version 2').click();
  await confirm.getByRole('button', { name: 'Move 2 leads' }).click();
  await page.getByTestId('toasts').getByText('Moved 2 leads to version 2.').waitFor();
  await page.getByTestId('sequence-running').filter({ hasText: '2 leads on version 2' }).waitFor();
  expect(await page.getByTestId('sequence-upgrade').count()).toBe(0);
  await page.screenshot({ path: await screenshotPath('sequence-upgrade'), fullPage: true });

  // Without JavaScript: a third version, the same question, and the result in plain text.
  await api('PUT', `/api/sequences/${sequence.id}/steps/${step2.id}`, { subject: 'Last call, {{firstName}}' });
  await api('POST', `/api/campaigns/${campaign.id}/sequence`, { sequenceId: sequence.id });
  const plain = await browser.newContext({ javaScriptEnabled: false });
  await plain.addCookies([{ name: 'tf_session', value: await sessionOf(context), url: base }]);
  const noJs = await plain.newPage();
  await noJs.goto(`${base}/client/campaigns/${campaign.id}?customer=${customer.id}`);
  await expect(noJs.getByTestId('sequence-upgrade').textContent()).resolves.toContain('2 leads run version 2; the sequence is now at version 3.');
  const plainConfirm = noJs.getByTestId('sequence-upgrade-confirm');
  await plainConfirm.getByText('Move to version 3').click();
  await plainConfirm.getByRole('button', { name: 'Move 2 leads' }).click();
  await expect(noJs.getByTestId('upgrade-result').textContent()).resolves.toContain('Moved 2 leads to version 3.');
  await expect(noJs.getByTestId('sequence-running').textContent()).resolves.toContain('2 leads on version 3');
  await plain.close();

  expect(pageErrors).toEqual([]);
  expect(consoleMessages.filter((m) => m.startsWith('error'))).toEqual([]);
  await context.close();
});
