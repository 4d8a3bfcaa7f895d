// Replies in the console, end to end on the running product: a lead's reply
// (recorded as the send path records one) shows as an unread conversation;
// the owner opens it, marks it read, assigns it to a colleague, is told in
// words when a snooze time is in the past, closes it, and finds it again by
// filtering on status. A viewer reads the thread but is offered no action.
// In a second customer: unread conversations come first, the filters live in
// the URL, j / k / Enter move through the list, and the reply box shows only
// to whom may send.
import { type Browser, type Page } from 'playwright-core';
import { type DataSource } from 'typeorm';
import { type User } from '../../db/entities';
import { apiCall, apiSession, seedOutreach, type OutreachSeeds } from '../helpers/consoleSeed';
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
let ritaCookie: string;
const base = () => env('TF_E2E_CONSOLE_URL');
const customer = () => t.customers[0]!.id;
const REPLY = 'Sounds good.\nCan we talk on Friday? <script>alert(1)</script>';

beforeAll(async () => {
  owner = await openDataSource(env('TF_E2E_DATABASE_URL'), 'tenantflow-e2e-replies');
  t = await createTenant(owner, { name: 'Replies Agency', customers: 2 });
  rita = await createUser(owner, { name: 'Rita Replies' });
  await addMember(owner, t, rita, 'owner');
  await addMember(owner, t, await createUser(owner, { name: 'Colm Colleague' }), 'member');
  vic = await createUser(owner, { name: 'Vic Viewer' });
  await addMember(owner, t, vic, 'viewer');
  const cookie = await apiSession(env('TF_E2E_API_URL'), rita.email);
  outreach = await seedOutreach(env('TF_E2E_API_URL'), cookie, customer(), Number(env('TF_E2E_SMTP_SINK_PORT')));
  ritaCookie = cookie;
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

describe('the list and the reply box', () => {
  const second = () => t.customers[1]!.id;
  let older: string;
  let newer: string;

  beforeAll(async () => {
    const call = <T>(method: string, url: string, body?: unknown) => apiCall<T>(env('TF_E2E_API_URL'), ritaCookie, method, url, body, second());
    const seeds = await seedOutreach(env('TF_E2E_API_URL'), ritaCookie, second(), Number(env('TF_E2E_SMTP_SINK_PORT')));
    await call('POST', `/api/campaigns/${seeds.campaignId}/leads`, { leads: [{ email: 'newer@seeded.example', firstName: 'Nia' }] });
    const found = await call<{ data: { id: string }[] }>('GET', '/api/leads?q=newer%40seeded.example');
    // The older conversation has an unread reply; the newer one was only sent.
    older = await seedConversation(owner, t.tenant.id, { customerId: second(), ...seeds }, { subject: 'Older', reply: 'Interested' });
    newer = await seedConversation(owner, t.tenant.id, { customerId: second(), ...seeds, leadId: found.data[0]!.id }, { subject: 'Newer' });
  });

  const rows = (page: Page) => page.locator('[data-testid="conversations"] tbody tr');

  it('puts unread conversations first, keeps the filters in the URL, and moves with j / k / Enter', async () => {
    const { page, errors } = await open(rita.email);
    await page.goto(`${base()}/client/replies?customer=${second()}`);
    await ready(page);
    await expect(rows(page).count()).resolves.toBe(2);
    await expect(rows(page).nth(0).getAttribute('data-testid')).resolves.toBe('conversation-lead@seeded.example');
    await expect(rows(page).nth(1).getAttribute('data-testid')).resolves.toBe('conversation-newer@seeded.example');
    await expect(page.getByTestId('unread-total').textContent()).resolves.toBe('1 unread');
    await expect(page.getByTestId('replies-keys').textContent()).resolves.toContain('j / k');

    // Keys: j to the first conversation and on, k back, Enter opens the one in focus.
    await page.locator('h1').click();
    await page.keyboard.press('j');
    await expect(page.evaluate('document.activeElement?.textContent')).resolves.toBe('Lee');
    await page.keyboard.press('j');
    await expect(page.evaluate('document.activeElement?.textContent')).resolves.toBe('Nia');
    await page.keyboard.press('k');
    await expect(page.evaluate('document.activeElement?.textContent')).resolves.toBe('Lee');
    await page.keyboard.press('Enter');
    await page.waitForURL((u) => u.pathname === `/client/replies/${older}`);
    await ready(page);

    // Filters are a GET form: campaign and unread-only end up in the URL and narrow the list.
    await page.goto(`${base()}/client/replies?customer=${second()}`);
    await ready(page);
    const filters = page.getByTestId('reply-filters');
    await filters.getByLabel('Campaign').selectOption({ label: 'Seeded campaign' });
    await filters.getByLabel('Unread only').check();
    await filters.getByRole('button', { name: 'Show' }).click();
    await page.waitForURL((u) => u.searchParams.get('unread') === 'true');
    await ready(page);
    expect(new URL(page.url()).searchParams.get('campaignId')).toMatch(/^cmp_/);
    await expect(rows(page).count()).resolves.toBe(1);
    await expect(rows(page).nth(0).getAttribute('data-testid')).resolves.toBe('conversation-lead@seeded.example');
    expect(errors).toEqual([]);
  });

  it('shows the reply box to whom may send, with a key that makes a double submit one message, and not to a viewer', async () => {
    const { page, errors } = await open(rita.email);
    await page.goto(`${base()}/client/replies/${newer}?customer=${second()}`);
    await ready(page);
    const box = page.getByTestId('reply-form');
    await expect(box.getByLabel(/Your reply to/).count()).resolves.toBe(1);
    await expect(box.locator('input[name="idempotencyKey"]').inputValue()).resolves.toMatch(/^[0-9a-f-]{36}$/);
    expect(errors).toEqual([]);

    const viewer = await open(vic.email);
    await viewer.page.goto(`${base()}/client/replies/${newer}?customer=${second()}`);
    await ready(viewer.page);
    await expect(viewer.page.locator('article.message').count()).resolves.toBe(1);
    await expect(viewer.page.getByTestId('reply-form').count()).resolves.toBe(0);
    expect(viewer.errors).toEqual([]);
  });

  it('sends a reply from the thread and follows it from queued to sent', async () => {
    const { page, errors } = await open(rita.email);
    await page.goto(`${base()}/client/replies/${newer}?customer=${second()}`);
    await ready(page);
    await page.getByLabel(/Your reply to/).fill('Thanks Nia, Friday works.');
    await page.getByTestId('reply-form').getByRole('button', { name: 'Send reply' }).click();
    await expect(page.getByTestId('reply-status').textContent()).resolves.toMatch(/^Your reply: (queued until|sending|sent)/);
    await page.getByTestId('reply-status').filter({ hasText: 'Your reply: sent.' }).waitFor({ timeout: 60_000 });
    await page.reload();
    await ready(page);
    await expect(page.locator('article.message').filter({ hasText: 'Thanks Nia, Friday works.' }).count()).resolves.toBe(1);
    expect(errors).toEqual([]);
  });
});
