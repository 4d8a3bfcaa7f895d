// The whole loop of a reply on the running product, with real mail servers on
// both sides: a sequence's first mail goes out through the local SMTP sink;
// the lead's answer is appended to the sending inbox's mailbox on the local
// IMAP server (GreenMail), where the inbox's mailbox reader finds it; the
// conversation shows as unread in the console and the enrollment stops; the
// owner answers from the thread, and the answer reaches the sink carrying
// In-Reply-To and References that name the lead's mail.
import fs from 'node:fs';
import path from 'node:path';
import { ImapFlow } from 'imapflow';
import { type Browser } from 'playwright-core';
import { type DataSource } from 'typeorm';
import { type User } from '../../db/entities';
import { sinkCopy } from '../../lib/mailSinkFiles';
import { apiCall, apiSession, seedOutreach, type OutreachSeeds } from '../helpers/consoleSeed';
import { openDataSource } from '../helpers/database';
import { addMember, createTenant, createUser, PASSWORD, type TenantFixture } from '../helpers/fixtures';
import { env, launchBrowser, ready, signIn } from './browser';

jest.setTimeout(180_000);

let browser: Browser;
let owner: DataSource;
let t: TenantFixture;
let rita: User;
let cookie: string;
let outreach: OutreachSeeds;
let inboxEmail: string;
const base = () => env('TF_E2E_CONSOLE_URL');
const api = () => env('TF_E2E_API_URL');
const customer = () => t.customers[0]!.id;
const sinkDir = () => path.join(env('TF_E2E_DATA_DIR'), 'mail-sink');
const call = <T>(method: string, url: string, body?: unknown) => apiCall<T>(api(), cookie, method, url, body, customer());

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const header = (eml: string, name: string) =>
  new RegExp(`^${name}: *(.*(?:\\r?\\n[ \\t].*)*)`, 'im')
    .exec(eml)?.[1]
    ?.replace(/\r?\n[ \t]+/g, ' ')
    .trim();

beforeAll(async () => {
  owner = await openDataSource(env('TF_E2E_DATABASE_URL'), 'tenantflow-e2e-reply-loop');
  t = await createTenant(owner, { name: 'Loop Agency', customers: 1 });
  rita = await createUser(owner, { name: 'Rita Loop' });
  await addMember(owner, t, rita, 'owner');
  cookie = await apiSession(api(), rita.email);
  outreach = await seedOutreach(api(), cookie, customer(), Number(env('TF_E2E_SMTP_SINK_PORT')));
  // A second step a day later: the enrollment is still running when the answer arrives.
  await call('POST', `/api/sequences/${outreach.sequenceId}/steps`, { subject: 'Following up', body: 'Any thoughts, {{firstName}}?', delayHours: 24 });
  const inbox = await call<{ fromEmail: string }>('GET', `/api/inboxes/${outreach.inboxId}`);
  inboxEmail = inbox.fromEmail;
  // The inbox reads its own mailbox on the local IMAP server (any password there).
  await call('PATCH', `/api/inboxes/${outreach.inboxId}`, {
    imap: { host: '127.0.0.1', port: Number(env('TF_E2E_IMAP_PORT')), secure: false, user: inboxEmail, password: 'local mailbox' },
  });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await owner?.destroy();
});

it('answers a sequence mail over IMAP, shows it unread, and sends the owner’s reply threaded', async () => {
  await call('POST', `/api/campaigns/${outreach.campaignId}/sequence`, { sequenceId: outreach.sequenceId });
  await call('POST', `/api/campaigns/${outreach.campaignId}/status`, { status: 'active' });
  // The sink keeps every mail of the run: this inbox's is the one from its own address.
  const sent = await waitFor('the first step in the sink', () => {
    for (const f of fs.existsSync(sinkDir()) ? fs.readdirSync(sinkDir()) : []) {
      const eml = fs.readFileSync(path.join(sinkDir(), f), 'utf8');
      if (header(eml, 'From')?.includes(inboxEmail) && header(eml, 'Subject') === 'Hello Lee') return eml;
    }
    return undefined;
  });
  expect(header(sent, 'To')).toContain('lead@seeded.example');
  const firstId = header(sent, 'Message-ID')!;
  expect(sinkCopy(sinkDir(), firstId)).toBe(sent);

  // The lead answers: the mail is appended to the inbox's mailbox over IMAP.
  const answerId = `<answer-${Date.now()}@seeded.example>`;
  const imap = new ImapFlow({ host: '127.0.0.1', port: Number(env('TF_E2E_IMAP_PORT')), secure: false, auth: { user: inboxEmail, pass: 'x' }, logger: false });
  await imap.connect();
  try {
    await imap.append(
      'INBOX',
      [
        'From: Lee <lead@seeded.example>',
        `To: ${inboxEmail}`,
        'Subject: Re: Hello Lee',
        `Message-ID: ${answerId}`,
        `In-Reply-To: ${firstId}`,
        `References: ${firstId}`,
        `Date: ${new Date().toUTCString()}`,
        'Content-Type: text/plain; charset=utf-8',
        '',
        'Yes — tell me more about it.',
        '',
      ].join('\r\n'),
    );
  } finally {
    await imap.logout();
  }

  // The reader stores it in the lead's conversation and stops the enrollment before its next step.
  const conversationId = await waitFor('the answer in a conversation', async () => {
    const list = await call<{ data: { id: string; unreadCount: number }[] }>('GET', '/api/conversations?unread=true');
    return list.data[0]?.id;
  });
  await waitFor('the enrollment to stop', async () => {
    const lead = await call<{ status: string }>('GET', `/api/leads/${outreach.leadId}`);
    return lead.status === 'replied' ? true : undefined;
  });

  const page = await (await browser.newContext()).newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await signIn(page, base(), rita.email, PASSWORD);
  await page.goto(`${base()}/client/replies?customer=${customer()}`);
  await ready(page);
  const row = page.getByTestId('conversation-lead@seeded.example');
  await expect(row.getByTestId('unread').textContent()).resolves.toBe('1 unread');
  await row.getByRole('link', { name: 'Lee' }).click();
  await page.getByTestId('conversation-subject').waitFor();
  await ready(page);
  expect(page.url()).toContain(`/client/replies/${conversationId}`);
  await expect(page.getByTestId('message-inbound').first().textContent()).resolves.toContain('Yes — tell me more about it.');

  await page.getByLabel(/Your reply to/).fill('Glad to hear it, Lee. Here is more.');
  await page.getByTestId('reply-form').getByRole('button', { name: 'Send reply' }).click();
  await page.getByTestId('reply-status').filter({ hasText: 'Your reply: sent.' }).waitFor({ timeout: 60_000 });
  expect(errors).toEqual([]);

  // The reply in the sink answers the lead's mail in the lead's own thread (the
  // page's Content-Security-Policy held throughout: the browser helpers fail
  // a test on any violation).
  const thread = await call<{ messages: { data: { id: string; direction: string; origin: string }[] } }>('GET', `/api/conversations/${conversationId}`);
  const reply = thread.messages.data.find((m) => m.direction === 'outbound' && m.origin === 'manual')!;
  const replyRow = await call<{ status: string }>('GET', `/api/messages/${reply.id}`);
  expect(replyRow.status).toBe('accepted');
  const replyEml = await waitFor('the reply in the sink', () => {
    const f = fs.readdirSync(sinkDir()).find((n) => n.startsWith(`${reply.id}.`));
    return f ? fs.readFileSync(path.join(sinkDir(), f), 'utf8') : undefined;
  });
  expect(header(replyEml, 'In-Reply-To')).toBe(answerId);
  expect(header(replyEml, 'References')).toContain(firstId);
  expect(header(replyEml, 'References')).toContain(answerId);
  expect(header(replyEml, 'To')).toContain('lead@seeded.example');
  expect(replyEml).toContain('Glad to hear it, Lee. Here is more.');
});
