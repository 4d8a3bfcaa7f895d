// An inbox's IMAP settings in the console (docs/console.md, "Inboxes"): the
// owner points an SMTP inbox at the e2e platform's local mail server
// (GreenMail), sees its reader's first read (when, and how many messages it
// stored), is told in words beside the field when the host is not allowed
// (nothing is written), keeps the stored password by leaving the field empty,
// and stops the reading behind a confirmation. The refused settings are sent
// with JavaScript off: the form is a plain POST.
import { type Browser, type Locator, type Page } from 'playwright-core';
import { type DataSource } from 'typeorm';
import { type User } from '../../db/entities';
import { apiCall, apiSession, seedOutreach, type OutreachSeeds } from '../helpers/consoleSeed';
import { openDataSource } from '../helpers/database';
import { addMember, createTenant, createUser, PASSWORD, type TenantFixture } from '../helpers/fixtures';
import { env, launchBrowser, ready, signIn } from './browser';

jest.setTimeout(180_000);

interface ImapState {
  host: string;
  port: number;
  secure: boolean;
  user: string | null;
  hasPassword: boolean;
  lastSyncedAt: string | null;
  stored: number;
  error: string | null;
}

let browser: Browser;
let owner: DataSource;
let t: TenantFixture;
let olga: User;
let cookie: string;
let outreach: OutreachSeeds;
let inboxEmail: string;
const base = () => env('TF_E2E_CONSOLE_URL');
const customer = () => t.customers[0]!.id;
const imapPort = () => env('TF_E2E_IMAP_PORT');
const pageUrl = () => `${base()}/provider/inboxes?customer=${customer()}`;
const imapOf = async () =>
  (await apiCall<{ imap: ImapState | null }>(env('TF_E2E_API_URL'), cookie, 'GET', `/api/inboxes/${outreach.inboxId}`, undefined, customer())).imap;

beforeAll(async () => {
  owner = await openDataSource(env('TF_E2E_DATABASE_URL'), 'tenantflow-e2e-inbox-imap');
  t = await createTenant(owner, { name: 'Mailbox Agency', customers: 1 });
  olga = await createUser(owner, { name: 'Olga Mailbox' });
  await addMember(owner, t, olga, 'owner');
  cookie = await apiSession(env('TF_E2E_API_URL'), olga.email);
  outreach = await seedOutreach(env('TF_E2E_API_URL'), cookie, customer(), Number(env('TF_E2E_SMTP_SINK_PORT')));
  inboxEmail = (await apiCall<{ fromEmail: string }>(env('TF_E2E_API_URL'), cookie, 'GET', `/api/inboxes/${outreach.inboxId}`, undefined, customer()))
    .fromEmail;
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await owner?.destroy();
});

/** The IMAP form of the seeded inbox, opened. */
async function openForm(section: Locator): Promise<Locator> {
  const form = section.getByTestId('imap-form');
  if (!(await form.isVisible())) await section.locator('summary').filter({ hasText: /IMAP/ }).click();
  await form.waitFor();
  return form;
}

async function fill(form: Locator, v: { host: string; port: string; tls: boolean; user: string; password: string }) {
  await form.getByLabel('IMAP host').fill(v.host);
  await form.getByLabel('IMAP port').fill(v.port);
  await form.getByLabel('TLS from the start').setChecked(v.tls);
  await form.getByLabel('IMAP user').fill(v.user);
  await form.getByLabel('IMAP password').fill(v.password);
}

async function signedIn(javaScriptEnabled: boolean): Promise<Page> {
  const context = await browser.newContext({ javaScriptEnabled });
  const [name, value] = cookie.split('=') as [string, string];
  await context.addCookies([{ name, value, url: base() }]);
  return context.newPage();
}

it('refuses a host the server does not allow, beside the field, without JavaScript, and writes nothing', async () => {
  const page = await signedIn(false);
  await page.goto(pageUrl());
  const section = page.getByTestId(`imap-${inboxEmail}`);
  await expect(section.getByTestId('imap-off').textContent()).resolves.toContain('Replies are not read from this mailbox.');
  // The hint names the local mail server; the form is not filled with it.
  await expect(page.getByTestId('imap-local-hint').textContent()).resolves.toContain(`port ${imapPort()}`);
  const form = await openForm(section);
  await expect(form.getByLabel('IMAP host').inputValue()).resolves.toBe('');
  // Loopback is allowed on the mail server's own port only: any other is refused.
  await fill(form, { host: '127.0.0.1', port: '1', tls: false, user: inboxEmail, password: 'any password' });
  await form.getByRole('button', { name: 'Start reading' }).click();
  await page.waitForLoadState();
  const refused = page.getByTestId(`imap-${inboxEmail}`).getByTestId('imap-form');
  await expect(refused.locator('p.error').first().textContent()).resolves.toBe('this host is not allowed: use a public mail server');
  await expect(refused.getByRole('alert').textContent()).resolves.toBe('Please check the fields marked below.');
  // What was typed is kept (the password is not), and the API has no settings.
  await expect(refused.getByLabel('IMAP port').inputValue()).resolves.toBe('1');
  await expect(refused.getByLabel('IMAP password').inputValue()).resolves.toBe('');
  await expect(imapOf()).resolves.toBeNull();
  await page.context().close();
});

it('reads the mailbox on the local mail server, keeps the stored password, and stops', async () => {
  const page = await (await browser.newContext()).newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await signIn(page, base(), olga.email, PASSWORD);
  await page.goto(pageUrl());
  await ready(page);
  let section = page.getByTestId(`imap-${inboxEmail}`);
  let form = await openForm(section);
  // A password is asked for the first time.
  await fill(form, { host: '127.0.0.1', port: imapPort(), tls: false, user: inboxEmail, password: '' });
  await form.getByRole('button', { name: 'Start reading' }).click();
  await form.locator('p.error').filter({ hasText: 'give the mailbox password' }).waitFor();
  await expect(imapOf()).resolves.toBeNull();

  await form.getByLabel('IMAP password').fill('local mailbox secret');
  await form.getByRole('button', { name: 'Start reading' }).click();
  await section.getByTestId('imap-saved').waitFor();
  await expect(section.getByTestId('imap-settings').textContent()).resolves.toContain(`Reads ${inboxEmail} at 127.0.0.1:${imapPort()}`);
  expect(await section.getByTestId('imap-settings').textContent()).toContain('password stored');
  expect(await page.content()).not.toContain('local mailbox secret');

  // The reader runs every 2 s on the e2e platform: reload until its first read shows.
  const deadline = Date.now() + 60_000;
  for (;;) {
    await page.goto(pageUrl());
    await ready(page);
    section = page.getByTestId(`imap-${inboxEmail}`);
    if (await section.getByTestId('imap-stored').isVisible()) break;
    if (Date.now() > deadline) throw new Error('the mailbox reader never reported a read');
    await new Promise((r) => setTimeout(r, 1000));
  }
  await expect(section.getByTestId('imap-stored').textContent()).resolves.toBe('0 messages stored');
  await expect(section.getByTestId('imap-state').textContent()).resolves.toMatch(/Last read .+/);
  expect(await section.getByTestId('imap-error').count()).toBe(0);
  const read = await imapOf();
  expect(read).toMatchObject({ host: '127.0.0.1', port: Number(imapPort()), secure: false, user: inboxEmail, hasPassword: true, stored: 0, error: null });
  expect(read!.lastSyncedAt).not.toBeNull();

  // An empty password keeps the stored one.
  form = await openForm(section);
  await expect(form.textContent()).resolves.toContain('Leave the password empty to keep the stored one.');
  await expect(form.getByLabel('IMAP host').inputValue()).resolves.toBe('127.0.0.1');
  await expect(form.getByLabel('IMAP port').inputValue()).resolves.toBe(imapPort());
  await expect(form.getByLabel('TLS from the start').isChecked()).resolves.toBe(false);
  await form.getByRole('button', { name: 'Save IMAP settings' }).click();
  await section.getByTestId('imap-saved').waitFor();
  await expect(imapOf()).resolves.toMatchObject({ hasPassword: true, host: '127.0.0.1' });

  // Stopping asks first, then clears the settings and the password.
  const stop = section.getByTestId(`imap-stop-${inboxEmail}`);
  await stop.getByRole('button', { name: 'Stop reading', exact: true }).click();
  await stop.getByText(`Stop reading replies from ${inboxEmail}’s mailbox?`).waitFor();
  await stop.getByRole('button', { name: 'Stop reading replies' }).click();
  await section.getByTestId('imap-stopped').waitFor();
  await section.getByTestId('imap-off').waitFor();
  await expect(imapOf()).resolves.toBeNull();
  expect(errors).toEqual([]);
});
