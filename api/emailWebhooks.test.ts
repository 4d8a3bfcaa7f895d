// A provider's reply webhook and the mailbox reader land in the same
// conversation, and a reply both of them see is stored once: the webhook
// stores it under the reply's own Message-ID when the provider gives it,
// which is the key the reader stores the mail under (db/inboundMail.ts).
import { type Client } from '@temporalio/client';
import { storeInboundMail } from '../db/inboundMail';
import { newId } from '../db/ids';
import { insertSendingMessage } from '../db/messages';
import { withTenant } from '../db/tenantContext';
import { parseMail } from '../activities/providers/imapMailbox';
import { testApp } from '../test/helpers/api';
import { createTenant, type TenantFixture } from '../test/helpers/fixtures';
import { postEmailWebhook } from '../test/helpers/outreach';
import { useSuiteDatabase } from '../test/helpers/suite';
import { sendMessageId } from '../workflows/enrollLead.contract';

const suite = useSuiteDatabase('email-webhooks');
const SECRET = 'webhook-secret-0123456789';
let t: TenantFixture;
const signals: string[] = [];
// The enrollment's workflow is told by signal-with-start; what it was told is kept here.
const client = { workflow: { signalWithStart: async (_: unknown, o: { signal: string }) => signals.push(o.signal) } } as unknown as Client;
const app = () => testApp(suite.ds, { client, emailWebhookSecrets: { smartlead: SECRET } });

beforeAll(async () => {
  t = await createTenant(suite.ds, { customers: 1 });
});

/** A lead sent step 1 of a running sequence; answers its Message-ID and conversation. */
async function sent() {
  const customer = t.customers[0]!.id;
  return withTenant(suite.ds, t.tenant.id, async (m) => {
    const inbox = newId('inb');
    const inboxEmail = `sales-${inbox.slice(-6)}@agency.example`;
    await m.query(
      "INSERT INTO inboxes (tenant_id, id, customer_id, provider, from_email, daily_cap, smtp_host, smtp_port, smtp_secure) VALUES (current_setting('app.tenant_id')::uuid, $1, $2, 'smtp', $3, 50, 'localhost', 25, false)",
      [inbox, customer, inboxEmail],
    );
    const campaign = newId('cmp');
    await m.query(
      `INSERT INTO campaigns (tenant_id, id, customer_id, name, status, timezone, days, window_start, window_end)
       VALUES (current_setting('app.tenant_id')::uuid, $1, $2, 'Hooks', 'active', 'UTC', '{1,2,3,4,5}', '09:00', '17:00')`,
      [campaign, customer],
    );
    const lead = newId('lead');
    const email = `${lead.slice(-8)}@lead.example`;
    await m.query("INSERT INTO leads (tenant_id, id, customer_id, email, source) VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, 'api')", [
      lead,
      customer,
      email,
    ]);
    const enrollment = newId('enr');
    await m.query(
      "INSERT INTO enrollments (tenant_id, id, customer_id, campaign_id, lead_id, inbox_id, status) VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, $4, $5, 'active')",
      [enrollment, customer, campaign, lead, inbox],
    );
    const messageId = sendMessageId(t.tenant.id, enrollment, 1, inboxEmail);
    const row = newId('msg');
    await insertSendingMessage(
      m,
      {
        id: row,
        customerId: customer,
        campaignId: campaign,
        enrollmentId: enrollment,
        leadId: lead,
        inboxId: inbox,
        step: 1,
        messageId,
        scheduledAt: new Date(),
      },
      { subject: 'Hello', body: 'Hi', unsubscribeToken: `u_${row}` },
    );
    const [c] = (await m.query('SELECT conversation_id FROM messages WHERE id = $1', [row])) as { conversation_id: string }[];
    return { inbox, inboxEmail, email, enrollment, messageId, conversation: c!.conversation_id };
  });
}

const replyMail = async (s: Awaited<ReturnType<typeof sent>>, replyId: string) => ({
  ...(await parseMail(
    [`From: ${s.email}`, `To: ${s.inboxEmail}`, 'Subject: Re: Hello', `Message-ID: ${replyId}`, `In-Reply-To: ${s.messageId}`, '', 'Yes, call me.', ''].join(
      '\r\n',
    ),
  )),
  uid: 1,
  size: 100,
  truncated: false,
});

const readOverImap = (s: Awaited<ReturnType<typeof sent>>, replyId: string) =>
  withTenant(suite.ds, t.tenant.id, async (m) => storeInboundMail(m, s.inbox, [await replyMail(s, replyId)]));

const thread = (conversation: string) =>
  withTenant(suite.ds, t.tenant.id, async (m) => {
    const messages = (await m.query("SELECT message_id, from_email, body FROM messages WHERE conversation_id = $1 AND direction = 'inbound'", [
      conversation,
    ])) as { message_id: string; from_email: string | null; body: string }[];
    const [c] = (await m.query('SELECT unread_count FROM conversations WHERE id = $1', [conversation])) as { unread_count: number }[];
    return { messages, unread: c!.unread_count };
  });

it('a reply webhook naming its Message-ID is stored under it, and the same mail read from the mailbox later is not stored again', async () => {
  const s = await sent();
  const replyId = `<hook-${s.enrollment}@lead.example>`;
  signals.length = 0;
  const res = await postEmailWebhook(app(), SECRET, {
    id: `evt-${s.enrollment}`,
    type: 'reply',
    messageId: s.messageId,
    reply: { subject: 'Re: Hello', text: 'Yes, call me.', messageId: replyId.slice(1, -1), from: s.email.toUpperCase() },
  });
  expect(res.status).toBe(200);
  expect(signals).toEqual(['reply']);
  expect(await thread(s.conversation)).toEqual({ messages: [{ message_id: replyId, from_email: s.email, body: 'Yes, call me.' }], unread: 1 });

  expect(await readOverImap(s, replyId)).toEqual({ stored: 0, ignored: 1, stops: [] });
  expect((await thread(s.conversation)).messages).toHaveLength(1);
  expect((await thread(s.conversation)).unread).toBe(1);
});

it('a reply read from the mailbox first is not stored again by the webhook, which stops nothing more', async () => {
  const s = await sent();
  const replyId = `<imap-${s.enrollment}@lead.example>`;
  const stored = await readOverImap(s, replyId);
  expect(stored.stored).toBe(1);
  expect(stored.stops).toHaveLength(1);
  signals.length = 0;
  const res = await postEmailWebhook(app(), SECRET, {
    id: `evt-${s.enrollment}`,
    type: 'reply',
    messageId: s.messageId,
    reply: { subject: 'Re: Hello', text: 'Yes, call me.', messageId: replyId },
  });
  expect(res.status).toBe(200);
  // The reader ended the enrollment already: the webhook finds it replied and signals nothing.
  expect(signals).toEqual([]);
  expect(await thread(s.conversation)).toEqual({ messages: [{ message_id: replyId, from_email: s.email, body: 'Yes, call me.\n' }], unread: 1 });
});

it('a reply webhook without a Message-ID still lands in the same conversation', async () => {
  const s = await sent();
  const res = await postEmailWebhook(app(), SECRET, { id: `evt-${s.enrollment}`, type: 'reply', messageId: s.messageId, reply: { text: 'Later, maybe.' } });
  expect(res.status).toBe(200);
  expect(await thread(s.conversation)).toEqual({ messages: [{ message_id: `reply:evt-${s.enrollment}`, from_email: null, body: 'Later, maybe.' }], unread: 1 });
});

it('a reply webhook whose subject or text holds a NUL is stored without it, not refused', async () => {
  const s = await sent();
  signals.length = 0;
  const res = await postEmailWebhook(app(), SECRET, {
    id: `evt-nul-${s.enrollment}`,
    type: 'reply',
    messageId: s.messageId,
    reply: { subject: 'Re:\u0000 Hello', text: 'Yes,\u0000 call me.' },
  });
  expect(res.status).toBe(200);
  expect(signals).toEqual(['reply']);
  expect(await thread(s.conversation)).toEqual({
    messages: [{ message_id: `reply:evt-nul-${s.enrollment}`, from_email: null, body: 'Yes, call me.' }],
    unread: 1,
  });
  // A NUL anywhere else is still refused, as every API input's is.
  const other = await postEmailWebhook(app(), SECRET, { id: `evt-\u0000-${s.enrollment}`, type: 'reply', messageId: s.messageId });
  expect(other.status).toBe(400);
});
