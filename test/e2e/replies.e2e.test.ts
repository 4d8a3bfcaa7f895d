// Replies in the console, end to end on the running product: a lead's reply
// (recorded as the send path records one) shows as an unread conversation;
// the owner opens it, marks it read, assigns it to a colleague, is told in
// words when a snooze time is in the past, closes it, and finds it again by
// filtering on status. A viewer reads the thread but is offered no action.
import { type Browser, type Page } from 'playwright-core';
import { type DataSource } from 'typeorm';
import { type User } from '../../db/entities';
import { apiSession, seedOutreach, type OutreachSeeds } from '../helpers/consoleSeed';
import { seedConversation } from '../helpers/conversationSeed';
import { openDataSource } from '../helpers/database';
import { addMember, createTenant, createUser, PASSWORD, type TenantFixture } from '../helpers/fixtures';
import { env, launchBrowser, ready, signIn } from './browser';

let browser: Browser;
let owner: DataSource;
let t: TenantFixture;
let rita: User;
let vic: User;
let outreach: OutreachSeeds;
let conversationId: string;
const base = () => env('TF_E2E_CONSOLE_URL');
const customer = () => t.customers[0]!.id;
const REPLY = 'Sounds good.\nCan we talk on Friday? <script>alert(1)</script>';

beforeAll(async () => {
  owner = await openDataSource(env('TF_E2E_DATABASE_URL'), 'tenantflow-e2e-replies');
  t = await createTenant(owner, { name: 'Replies Agency', customers: 1 });
  rita = await createUser(owner, { name: 'Rita Replies' });
  await addMember(owner, t, rita, 'owner');
  await addMember(owner, t, await createUser(owner, { name: 'Colm Colleague' }), 'member');
  vic = await createUser(owner, { name: 'Vic Viewer' });
  await addMember(owner, t, vic, 'viewer');
  const cookie = await apiSession(env('TF_E2E_API_URL'), rita.email);
  outreach = await seedOutreach(env('TF_E2E_API_URL'), cookie, customer(), Number(env('TF_E2E_SMTP_SINK_PORT')));
  conversationId = await seedConversation(owner, t.tenant.id, { customerId: customer(), ...outreach }, { subject: 'Hello Lee', reply: REPLY });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await owner?.destroy();
});

async function open(email: string): Promise<{ page: Page; errors: string[] }> {
  const page = await (await browser.newContext()).newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await signIn(page, base(), email, PASSWORD);
  return { page, errors };
}

const result = (page: Page) => page.getByTestId('action-result').textContent();

it('shows a reply as unread, and lets the owner read, assign, snooze-check and close it, then find it by status', async () => {
  const { page, errors } = await open(rita.email);
  await page.goto(`${base()}/client/replies?customer=${customer()}`);
  await ready(page);
  const row = page.getByTestId('conversation-lead@seeded.example');
  await expect(row.getByTestId('unread').textContent()).resolves.toBe('1 unread');
  await expect(row.getByTestId('conversation-status').textContent()).resolves.toBe('open');

  // Opening the thread does not mark it read: that is the member's choice.
  await row.getByRole('link', { name: 'Lee' }).click();
  await page.getByTestId('conversation-subject').waitFor();
  await ready(page);
  expect(page.url()).toContain(`/client/replies/${conversationId}`);
  await expect(page.getByTestId('conversation-unread').textContent()).resolves.toBe('1 unread');
  await expect(page.getByTestId('conversation-lead').getAttribute('href')).resolves.toBe(`/client/leads/${outreach.leadId}?customer=${customer()}`);
  await expect(page.getByTestId('conversation-campaigns').textContent()).resolves.toContain('Seeded campaign');
  // Newest first: the reply, then the sequence's message; both as text, the reply's markup shown, not run.
  const messages = page.locator('article.message');
  await expect(messages.count()).resolves.toBe(2);
  await expect(messages.nth(0).getAttribute('data-testid')).resolves.toBe('message-inbound');
  await expect(messages.nth(0).locator('.body').textContent()).resolves.toBe(REPLY);
  await expect(messages.nth(1).getAttribute('data-testid')).resolves.toBe('message-outbound');

  await page.getByTestId('mark-read').click();
  await expect(page.getByTestId('conversation-unread').filter({ hasText: 'all read' }).waitFor()).resolves.toBeUndefined();
  await expect(result(page)).resolves.toBe('Marked as read.');
  await expect(page.getByTestId('mark-read').count()).resolves.toBe(0);

  await page.getByLabel('Assign to').selectOption({ label: 'Colm Colleague' });
  await page.getByTestId('assign-form').getByRole('button', { name: 'Assign' }).click();
  await page.getByTestId('conversation-assignee').filter({ hasText: 'Colm Colleague' }).waitFor();
  await expect(result(page)).resolves.toBe('Assigned.');

  await page.getByLabel('Snooze until').fill('2020-01-01T10:00');
  await page.getByTestId('snooze-form').getByRole('button', { name: 'Snooze' }).click();
  await expect(page.getByTestId('snooze-error').textContent()).resolves.toBe('Choose a time in the future.');
  await expect(page.getByTestId('conversation-status').textContent()).resolves.toBe('open');

  await page.getByTestId('close').click();
  await page.getByTestId('conversation-status').filter({ hasText: 'closed' }).waitFor();
  await expect(result(page)).resolves.toBe('Closed.');
  await page.getByTestId('reopen').waitFor();

  // The list: no longer unread; gone from the open ones, there among the closed.
  await page.goto(`${base()}/client/replies?customer=${customer()}`);
  await ready(page);
  await expect(row.getByTestId('unread').count()).resolves.toBe(0);
  const filters = page.getByTestId('reply-filters');
  await filters.getByLabel('Status').selectOption('open');
  await filters.getByRole('button', { name: 'Show' }).click();
  await page.getByTestId('replies-empty').waitFor();
  await expect(page.getByTestId('replies-empty').textContent()).resolves.toContain('Show all conversations');
  expect(new URL(page.url()).searchParams.get('status')).toBe('open');
  await filters.getByLabel('Status').selectOption('closed');
  await filters.getByRole('button', { name: 'Show' }).click();
  await row.waitFor();
  await expect(row.getByTestId('conversation-status').textContent()).resolves.toBe('closed');
  expect(errors).toEqual([]);
});

it('lets a viewer read a thread without offering any change', async () => {
  const { page, errors } = await open(vic.email);
  await page.goto(`${base()}/client/replies/${conversationId}?customer=${customer()}`);
  await ready(page);
  await expect(page.locator('article.message').count()).resolves.toBe(2);
  await expect(page.getByRole('button', { name: /Close|Reopen|Assign|Snooze|Mark as read/ }).count()).resolves.toBe(0);
  expect(errors).toEqual([]);
});
