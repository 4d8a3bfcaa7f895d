// A provider event delivered twice is one analytics event, and a reply that
// both the provider's webhook and the mailbox reader see is one
// message.replied, whichever stores it first (docs/analytics.md).
import { type Client } from '@temporalio/client';
import { newId } from '../db/ids';
import { storeInboundMail } from '../db/inboundMail';
import { insertSendingMessage } from '../db/messages';
import { recordSendAccepted } from '../db/sends';
import { withTenant } from '../db/tenantContext';
import { parseMail } from '../activities/providers/imapMailbox';
import { testApp } from '../test/helpers/api';
import { createTenant, type TenantFixture } from '../test/helpers/fixtures';
import { postEmailWebhook } from '../test/helpers/outreach';
import { useSuiteDatabase } from '../test/helpers/suite';
import { sendMessageId } from '../workflows/enrollLead.contract';

const suite = useSuiteDatabase('email-webhook-events');
const SECRET = 'webhook-secret-0123456789';
let t: TenantFixture;
const client = { workflow: { signalWithStart: async () => undefined } } as unknown as Client;
const app = () => testApp(suite.ds, { client, emailWebhookSecrets: { smartlead: SECRET } });

beforeAll(async () => {
  t = await createTenant(suite.ds, { customers: 1 });
});

/** A lead sent (and accepted) step 1 of a running sequence. */
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
    await recordSendAccepted(m, { messageRowId: row, providerMessageId: `p-${row}`, sentAt: new Date(Date.now() - 60_000), enrollmentId: enrollment, step: 1 });
    return { inbox, inboxEmail, email, enrollment, messageId, row };
  });
}

type Sent = Awaited<ReturnType<typeof sent>>;

const events = (s: Sent, type: string) =>
  withTenant(
    suite.ds,
    t.tenant.id,
    (m) =>
      m.query('SELECT type, step, message_id, properties, dedupe_key FROM analytics_events WHERE enrollment_id = $1 AND type = $2 ORDER BY seq', [
        s.enrollment,
        type,
      ]) as Promise<{ type: string; step: number | null; message_id: string; properties: Record<string, unknown>; dedupe_key: string }[]>,
  );

const readOverImap = async (s: Sent, replyId: string) => {
  const mail = await parseMail(
    [`From: ${s.email}`, `To: ${s.inboxEmail}`, 'Subject: Re: Hello', `Message-ID: ${replyId}`, `In-Reply-To: ${s.messageId}`, '', 'Yes, call me.', ''].join(
      '\r\n',
    ),
  );
  return withTenant(suite.ds, t.tenant.id, (m) => storeInboundMail(m, s.inbox, [{ ...mail, uid: 1, size: 100, truncated: false }]));
};

it('an open delivered twice is one message.opened, keyed by the provider event', async () => {
  const s = await sent();
  const open = { id: `open-${s.enrollment}`, type: 'open', messageId: s.messageId };
  expect((await postEmailWebhook(app(), SECRET, open)).status).toBe(200);
  expect((await postEmailWebhook(app(), SECRET, open)).status).toBe(200);
  expect(await events(s, 'message.opened')).toEqual([
    { type: 'message.opened', step: 1, message_id: s.row, properties: { source: 'provider' }, dedupe_key: `message.opened:${s.row}:${open.id}` },
  ]);
});

it('a reply delivered twice, and read from the mailbox after, is one message.replied', async () => {
  const s = await sent();
  const replyId = `<hook-${s.enrollment}@lead.example>`;
  const reply = { id: `reply-${s.enrollment}`, type: 'reply', messageId: s.messageId, reply: { subject: 'Re: Hello', text: 'Yes', messageId: replyId } };
  expect((await postEmailWebhook(app(), SECRET, reply)).status).toBe(200);
  expect((await postEmailWebhook(app(), SECRET, reply)).status).toBe(200);
  expect((await readOverImap(s, replyId)).stored).toBe(0);
  const replied = await events(s, 'message.replied');
  expect(replied).toEqual([expect.objectContaining({ step: 1, dedupe_key: `message.replied:${replied[0]?.message_id}` })]);
});

it('a reply read from the mailbox first is one message.replied when the webhook reports it too', async () => {
  const s = await sent();
  const replyId = `<imap-${s.enrollment}@lead.example>`;
  expect((await readOverImap(s, replyId)).stored).toBe(1);
  const reply = { id: `reply-${s.enrollment}`, type: 'reply', messageId: s.messageId, reply: { subject: 'Re: Hello', text: 'Yes', messageId: replyId } };
  expect((await postEmailWebhook(app(), SECRET, reply)).status).toBe(200);
  // A second delivery under another event id (a provider's own retry) finds the reply stored.
  expect((await postEmailWebhook(app(), SECRET, { ...reply, id: `${reply.id}-again` })).status).toBe(200);
  expect(await events(s, 'message.replied')).toHaveLength(1);
});

it('a bounce delivered twice is one message.bounced of the returned message', async () => {
  const s = await sent();
  const bounce = { id: `bounce-${s.enrollment}`, type: 'bounce', messageId: s.messageId };
  expect((await postEmailWebhook(app(), SECRET, bounce)).status).toBe(200);
  expect((await postEmailWebhook(app(), SECRET, { ...bounce, id: `${bounce.id}-again` })).status).toBe(200);
  expect(await events(s, 'message.bounced')).toEqual([
    { type: 'message.bounced', step: 1, message_id: s.row, properties: {}, dedupe_key: `message.bounced:${s.row}` },
  ]);
});
