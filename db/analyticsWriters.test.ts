// Every statement that records a product fact writes its event in the same
// statement, with the key, time and references docs/analytics.md gives it;
// recording the fact again (a retry, a replay, a no-op) writes nothing more.
import { type DataSource, type EntityManager } from 'typeorm';
import { updateConversation } from './conversations';
import { recordReplyOrBounce } from './emailEvents';
import { newId } from './ids';
import { storeInboundMail } from './inboundMail';
import { upsertLead } from './leads';
import {
  countMessageOpen,
  failManualMessage,
  insertQueuedMessage,
  insertSendingMessage,
  markMessageFailed,
  markMessageUncertain,
  recordMessageAccepted,
  recordRenderError,
  type OutboundMessage,
} from './messages';
import { recordSendAccepted } from './sends';
import { suppressAddressAndStop } from './suppressions';
import { withTenant } from './tenantContext';
import { type InboundMail } from '../lib/inboundMail';
import { createTestDatabase, openDataSource, type TestDatabase } from '../test/helpers/database';
import { createTenant, type TenantFixture } from '../test/helpers/fixtures';

let db: TestDatabase;
let app: DataSource;
let t: TenantFixture;

beforeAll(async () => {
  db = await createTestDatabase('analytics_writers');
  app = await openDataSource(db.appUrl);
  t = await createTenant(app, { customers: 1 });
});

afterAll(async () => {
  await app?.destroy();
  await db?.drop();
});

const customer = () => t.customers[0]!.id;
const inTenant = <T>(fn: (m: EntityManager) => Promise<T>) => withTenant(app, t.tenant.id, fn);

interface EventRow {
  type: string;
  occurred_at: Date;
  customer_id: string | null;
  campaign_id: string | null;
  step: number | null;
  enrollment_id: string | null;
  message_id: string | null;
  lead_id: string | null;
  conversation_id: string | null;
  properties: Record<string, unknown>;
  dedupe_key: string;
}

/** The events whose dedupe key starts with `prefix`, in the order stored. */
const events = (prefix: string) =>
  inTenant(
    (m) =>
      m.query(
        `SELECT type, occurred_at, customer_id, campaign_id, step, enrollment_id, message_id, lead_id, conversation_id, properties, dedupe_key
           FROM analytics_events WHERE dedupe_key LIKE $1 || '%' ORDER BY seq`,
        [prefix],
      ) as Promise<EventRow[]>,
  );

const messageRow = (id: string) =>
  inTenant(async (m) => {
    const [row] = (await m.query('SELECT conversation_id, created_at, updated_at, sent_at FROM messages WHERE id = $1', [id])) as {
      conversation_id: string;
      created_at: Date;
      updated_at: Date;
      sent_at: Date | null;
    }[];
    return row!;
  });

interface Enrolled {
  inbox: string;
  inboxEmail: string;
  campaign: string;
  lead: string;
  email: string;
  enrollment: string;
}

/** An inbox, an active campaign and `n` leads enrolled in it. */
async function enrolled(n = 1): Promise<Enrolled[]> {
  return inTenant(async (m) => {
    const inbox = newId('inb');
    const inboxEmail = `${inbox.slice(-10)}@sender.example`;
    await m.query(
      "INSERT INTO inboxes (tenant_id, id, customer_id, provider, from_email, daily_cap, smtp_host, smtp_port, smtp_secure) VALUES (current_setting('app.tenant_id')::uuid, $1, $2, 'smtp', $3, 50, 'localhost', 25, false)",
      [inbox, customer(), inboxEmail],
    );
    const campaign = newId('cmp');
    await m.query(
      `INSERT INTO campaigns (tenant_id, id, customer_id, name, status, timezone, days, window_start, window_end)
       VALUES (current_setting('app.tenant_id')::uuid, $1, $2, 'Events', 'active', 'UTC', '{1,2,3,4,5}', '09:00', '17:00')`,
      [campaign, customer()],
    );
    const out: Enrolled[] = [];
    for (let i = 0; i < n; i++) {
      const lead = newId('lead');
      const email = `${lead.slice(-10)}@lead.example`;
      await m.query("INSERT INTO leads (tenant_id, id, customer_id, email, source) VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, 'api')", [
        lead,
        customer(),
        email,
      ]);
      const enrollment = newId('enr');
      await m.query(
        "INSERT INTO enrollments (tenant_id, id, customer_id, campaign_id, lead_id, inbox_id, status) VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, $4, $5, 'active')",
        [enrollment, customer(), campaign, lead, inbox],
      );
      out.push({ inbox, inboxEmail, campaign, lead, email, enrollment });
    }
    return out;
  });
}

const outbound = (e: Enrolled, step: number): OutboundMessage => ({
  id: newId('msg'),
  customerId: customer(),
  campaignId: e.campaign,
  enrollmentId: e.enrollment,
  leadId: e.lead,
  inboxId: e.inbox,
  step,
  messageId: `<${e.enrollment}.${step}.${t.tenant.id}@sender.example>`,
  scheduledAt: new Date(),
});

const record = (msg: OutboundMessage) => inTenant((m) => insertSendingMessage(m, msg, { subject: 'Hi', body: 'b', unsubscribeToken: `u_${msg.id}` }));

/** Records step `step` of the enrollment and its acceptance at `sentAt`; answers the message. */
async function sentStep(e: Enrolled, step: number, sentAt = new Date()): Promise<OutboundMessage> {
  const msg = outbound(e, step);
  await record(msg);
  await inTenant((m) => recordSendAccepted(m, { messageRowId: msg.id, providerMessageId: `p-${msg.id}`, sentAt, enrollmentId: e.enrollment, step }));
  return msg;
}

const refs = (e: Enrolled, msg: OutboundMessage, conversation: string) => ({
  customer_id: customer(),
  campaign_id: e.campaign,
  step: msg.step,
  enrollment_id: e.enrollment,
  message_id: msg.id,
  lead_id: e.lead,
  conversation_id: conversation,
});

const ms = (d: Date) => d.getTime();

it('a step recorded before its send is queued once, in a conversation opened once', async () => {
  const [e] = await enrolled();
  const msg = outbound(e!, 1);
  await record(msg);
  // The retry of the record finds the row: no second event of either kind.
  await record({ ...msg, id: newId('msg') });
  const row = await messageRow(msg.id);
  expect(await events(`message.queued:${msg.id}`)).toEqual([
    expect.objectContaining({
      type: 'message.queued',
      occurred_at: row.created_at,
      ...refs(e!, msg, row.conversation_id),
      dedupe_key: `message.queued:${msg.id}`,
    }),
  ]);
  const opened = await events(`conversation.opened:${row.conversation_id}`);
  expect(opened).toHaveLength(1);
  expect(opened[0]).toMatchObject({ customer_id: customer(), lead_id: e!.lead, conversation_id: row.conversation_id, campaign_id: null });
  expect(opened[0]!.dedupe_key).toBe(`conversation.opened:${row.conversation_id}:${ms(opened[0]!.occurred_at)}`);

  // The lead's next step joins the same conversation: it opens nothing.
  await record(outbound(e!, 2));
  expect(await events(`conversation.opened:${row.conversation_id}`)).toHaveLength(1);
});

it('an accepted send writes message.sent at its sent time; an uncertain and a failed one theirs, once', async () => {
  const [e] = await enrolled();
  const sentAt = new Date(Date.now() - 60_000);
  const sent = await sentStep(e!, 1, sentAt);
  const row = await messageRow(sent.id);
  expect(await events(`message.sent:${sent.id}`)).toEqual([
    expect.objectContaining({ type: 'message.sent', occurred_at: sentAt, ...refs(e!, sent, row.conversation_id), dedupe_key: `message.sent:${sent.id}` }),
  ]);

  const unsure = outbound(e!, 2);
  await record(unsure);
  await inTenant((m) => markMessageUncertain(m, unsure.id, 'interrupted', sentAt));
  await inTenant((m) => markMessageUncertain(m, unsure.id, 'interrupted', new Date()));
  expect(await events(`message.uncertain:${unsure.id}`)).toEqual([
    expect.objectContaining({ type: 'message.uncertain', occurred_at: sentAt, ...refs(e!, unsure, row.conversation_id) }),
  ]);

  const refused = outbound(e!, 3);
  await record(refused);
  await inTenant((m) => markMessageFailed(m, refused.id, '550 no'));
  // The row is no longer sending: a late second verdict changes nothing and writes nothing.
  await inTenant((m) => markMessageFailed(m, refused.id, '550 no'));
  const failed = await events(`message.failed:${refused.id}:`);
  const after = await messageRow(refused.id);
  expect(failed).toEqual([
    expect.objectContaining({
      type: 'message.failed',
      occurred_at: after.updated_at,
      ...refs(e!, refused, row.conversation_id),
      dedupe_key: `message.failed:${refused.id}:${ms(after.updated_at)}`,
    }),
  ]);
});

it('a render error is a failure when the status changes, not when it repeats', async () => {
  const [e] = await enrolled();
  const msg = outbound(e!, 1);
  await inTenant((m) => recordRenderError(m, msg, 'missing {{x}}'));
  await inTenant((m) => recordRenderError(m, { ...msg, id: newId('msg') }, 'missing {{y}}'));
  const row = await messageRow(msg.id);
  expect(await events(`message.failed:${msg.id}:`)).toEqual([
    expect.objectContaining({ type: 'message.failed', ...refs(e!, msg, row.conversation_id), dedupe_key: `message.failed:${msg.id}:${ms(row.created_at)}` }),
  ]);
  expect(await events(`conversation.opened:${row.conversation_id}`)).toHaveLength(1);
});

it('a manual message is queued, fails once, and its acceptance is sent', async () => {
  const [e] = await enrolled();
  const manual = (id: string) => ({
    id,
    customerId: customer(),
    leadId: e!.lead,
    inboxId: e!.inbox,
    origin: 'manual' as const,
    messageId: `<${id}@sender.example>`,
    subject: 'By hand',
    body: 'Hello',
  });
  const a = newId('msg');
  const queued = await inTenant((m) => insertQueuedMessage(m, manual(a)));
  const base = { customer_id: customer(), campaign_id: null, step: null, enrollment_id: null, lead_id: e!.lead, conversation_id: queued.conversation_id };
  expect(await events(`message.queued:${a}`)).toEqual([expect.objectContaining({ type: 'message.queued', ...base, message_id: a })]);
  await inTenant((m) => failManualMessage(m, a, 'suppressed'));
  await inTenant((m) => failManualMessage(m, a, 'suppressed'));
  expect(await events(`message.failed:${a}:`)).toEqual([expect.objectContaining({ type: 'message.failed', ...base, message_id: a })]);

  const b = newId('msg');
  await inTenant((m) => insertQueuedMessage(m, manual(b)));
  const sentAt = new Date(Date.now() - 5_000);
  await inTenant((m) => recordMessageAccepted(m, { messageRowId: b, providerMessageId: 'p-b', sentAt }));
  expect(await events(`message.sent:${b}`)).toEqual([expect.objectContaining({ type: 'message.sent', occurred_at: sentAt, ...base, message_id: b })]);
});

it("a provider's open is one event per provider event, marked as the provider's", async () => {
  const [e] = await enrolled();
  const msg = await sentStep(e!, 1);
  await inTenant((m) => countMessageOpen(m, msg.id, 'evt-1'));
  await inTenant((m) => countMessageOpen(m, msg.id, 'evt-1'));
  await inTenant((m) => countMessageOpen(m, msg.id, 'evt-2'));
  const row = await messageRow(msg.id);
  expect(await events(`message.opened:${msg.id}:`)).toEqual([
    expect.objectContaining({ ...refs(e!, msg, row.conversation_id), properties: { source: 'provider' }, dedupe_key: `message.opened:${msg.id}:evt-1` }),
    expect.objectContaining({ properties: { source: 'provider' }, dedupe_key: `message.opened:${msg.id}:evt-2` }),
  ]);
});

it('a reply counts against the last step sent before it, once whether the webhook or the mailbox stores it', async () => {
  const [e] = await enrolled();
  const first = await sentStep(e!, 1, new Date(Date.now() - 120_000));
  const second = await sentStep(e!, 2, new Date(Date.now() - 60_000));
  // A step recorded but not accepted is not one the lead could answer.
  await record(outbound(e!, 3));
  const conversation = (await messageRow(first.id)).conversation_id;
  const reply = newId('msg');
  const replyMessageId = `<${reply}@lead.example>`;
  const viaWebhook = (inboundId: string) =>
    inTenant((m) =>
      recordReplyOrBounce(
        m,
        t.tenant.id,
        { id: second.id, customer_id: customer(), campaign_id: e!.campaign, enrollment_id: e!.enrollment, lead_id: e!.lead, inbox_id: e!.inbox },
        { inboundId, inboundMessageId: replyMessageId, subject: 'Re: Hi', body: 'yes', outcome: 'replied', stops: true },
      ),
    );
  await viaWebhook(reply);
  await viaWebhook(newId('msg'));
  const mail: InboundMail = {
    uid: 7,
    size: 100,
    truncated: false,
    messageId: replyMessageId,
    inReplyTo: second.messageId,
    references: [],
    from: { address: e!.email, name: '' },
    to: [{ address: e!.inboxEmail, name: '' }],
    cc: [],
    subject: 'Re: Hi',
    text: 'yes',
    html: null,
    date: new Date().toISOString(),
    autoSubmitted: false,
    bounce: null,
    attachments: [],
  };
  expect((await inTenant((m) => storeInboundMail(m, e!.inbox, [mail]))).stored).toBe(0);
  const [inbound] = (await inTenant((m) => m.query('SELECT created_at FROM messages WHERE id = $1', [reply]))) as { created_at: Date }[];
  expect(await events('message.replied:')).toEqual([
    expect.objectContaining({
      type: 'message.replied',
      occurred_at: inbound!.created_at,
      customer_id: customer(),
      campaign_id: e!.campaign,
      step: 2,
      enrollment_id: e!.enrollment,
      message_id: reply,
      lead_id: e!.lead,
      conversation_id: conversation,
      dedupe_key: `message.replied:${reply}`,
    }),
  ]);
});

it('a reply read from the mailbox, and a returned message, write their events once', async () => {
  const [a, b] = await enrolled(2);
  const sentA = await sentStep(a!, 1, new Date(Date.now() - 60_000));
  const mail = (over: Partial<InboundMail>): InboundMail => ({
    uid: 1,
    size: 100,
    truncated: false,
    messageId: `<${newId('msg')}@lead.example>`,
    inReplyTo: sentA.messageId,
    references: [],
    from: { address: a!.email, name: '' },
    to: [{ address: a!.inboxEmail, name: '' }],
    cc: [],
    subject: 'Re: Hi',
    text: 'yes',
    html: null,
    date: new Date().toISOString(),
    autoSubmitted: false,
    bounce: null,
    attachments: [],
    ...over,
  });
  const reply = mail({});
  await inTenant((m) => storeInboundMail(m, a!.inbox, [reply, reply]));
  const replied = await events('message.replied:');
  const mine = replied.filter((r) => r.enrollment_id === a!.enrollment);
  expect(mine).toEqual([expect.objectContaining({ step: 1, campaign_id: a!.campaign, lead_id: a!.lead })]);

  const sentB = await sentStep(b!, 1, new Date(Date.now() - 60_000));
  const dsn = mail({
    from: { address: 'mailer-daemon@sender.example', name: '' },
    inReplyTo: null,
    bounce: {
      failed: true,
      originalMessageId: sentB.messageId,
      recipients: [{ recipient: b!.email, finalRecipient: b!.email, action: 'failed', status: '5.1.1', diagnosticCode: null }],
    },
  });
  expect((await inTenant((m) => storeInboundMail(m, b!.inbox, [dsn]))).stops).toHaveLength(1);
  // The provider reports the same bounce: its key is taken.
  await inTenant((m) =>
    recordReplyOrBounce(
      m,
      t.tenant.id,
      { id: sentB.id, customer_id: customer(), campaign_id: b!.campaign, enrollment_id: b!.enrollment, lead_id: b!.lead, inbox_id: b!.inbox },
      { inboundId: newId('msg'), inboundMessageId: `bounce:${sentB.id}`, subject: '', body: '', outcome: 'bounced', stops: true },
    ),
  );
  const row = await messageRow(sentB.id);
  expect(await events(`message.bounced:${sentB.id}`)).toEqual([
    expect.objectContaining({ type: 'message.bounced', ...refs(b!, sentB, row.conversation_id), dedupe_key: `message.bounced:${sentB.id}` }),
  ]);
  expect((await events('message.replied:')).filter((r) => r.enrollment_id === b!.enrollment)).toEqual([]);
});

it('an auto-reply and mail dated before the enrollment began are kept in the thread and are no reply', async () => {
  const [c] = await enrolled(1);
  const sent = await sentStep(c!, 1, new Date(Date.now() - 60_000));
  const base: InboundMail = {
    uid: 1,
    size: 100,
    truncated: false,
    messageId: null,
    inReplyTo: null,
    references: [],
    from: { address: c!.email, name: '' },
    to: [{ address: c!.inboxEmail, name: '' }],
    cc: [],
    subject: 'Hello',
    text: 'hi',
    html: null,
    date: new Date().toISOString(),
    autoSubmitted: false,
    bounce: null,
    attachments: [],
  };
  const outOfOffice = { ...base, messageId: `<${newId('msg')}@lead.example>`, inReplyTo: sent.messageId, autoSubmitted: true, subject: 'Out of office' };
  const lastYear = { ...base, messageId: `<${newId('msg')}@lead.example>`, date: new Date(Date.now() - 365 * 86_400_000).toISOString(), subject: 'Old' };
  expect((await inTenant((m) => storeInboundMail(m, c!.inbox, [outOfOffice, lastYear]))).stored).toBe(2);
  expect((await events('message.replied:')).filter((r) => r.lead_id === c!.lead)).toEqual([]);
});

it('a closed conversation a reply reopens writes conversation.opened; closing writes conversation.closed', async () => {
  const [e] = await enrolled();
  const msg = await sentStep(e!, 1);
  const conversation = (await messageRow(msg.id)).conversation_id;
  await inTenant((m) => updateConversation(m, conversation, { status: 'closed' }));
  await inTenant((m) => updateConversation(m, conversation, { status: 'closed' }));
  const closed = await events(`conversation.closed:${conversation}:`);
  expect(closed).toEqual([expect.objectContaining({ type: 'conversation.closed', customer_id: customer(), lead_id: e!.lead, conversation_id: conversation })]);
  expect(closed[0]!.dedupe_key).toBe(`conversation.closed:${conversation}:${ms(closed[0]!.occurred_at)}`);

  const reply = newId('msg');
  await inTenant((m) =>
    recordReplyOrBounce(
      m,
      t.tenant.id,
      { id: msg.id, customer_id: customer(), campaign_id: e!.campaign, enrollment_id: e!.enrollment, lead_id: e!.lead, inbox_id: e!.inbox },
      { inboundId: reply, inboundMessageId: `<${reply}@lead.example>`, subject: 'Re', body: 'back', outcome: 'replied', stops: false },
    ),
  );
  expect(await events(`conversation.opened:${conversation}:`)).toHaveLength(2);
  // Snoozing an open conversation neither opens nor closes it.
  await inTenant((m) => updateConversation(m, conversation, { status: 'snoozed', snoozedUntil: new Date(Date.now() + 3_600_000) }));
  await inTenant((m) => updateConversation(m, conversation, { status: 'closed' }));
  await inTenant((m) => updateConversation(m, conversation, { status: 'open' }));
  expect((await events(`conversation.`)).filter((r) => r.conversation_id === conversation).map((r) => r.type)).toEqual([
    'conversation.opened',
    'conversation.closed',
    'conversation.opened',
    'conversation.closed',
    'conversation.opened',
  ]);
});

it('a new lead is created once; an unsubscribe is one event per enrollment it stopped, else one for the lead', async () => {
  const lead = (email: string) => ({ email, domain: 'lead.example', firstName: 'Ann', lastName: '', company: '', fields: {} });
  const made = await inTenant((m) => upsertLead(m, customer(), lead('new-one@lead.example'), 'csv'));
  await inTenant((m) => upsertLead(m, customer(), lead('new-one@lead.example'), 'csv', true));
  const [row] = (await inTenant((m) => m.query('SELECT created_at FROM leads WHERE id = $1', [made.id]))) as { created_at: Date }[];
  expect(await events(`lead.created:${made.id}`)).toEqual([
    expect.objectContaining({ type: 'lead.created', occurred_at: row!.created_at, customer_id: customer(), lead_id: made.id, campaign_id: null }),
  ]);

  const [e] = await enrolled();
  const stopped = await inTenant((m) => suppressAddressAndStop(m, e!.email, 'unsubscribed'));
  expect(stopped.map((s) => s.id)).toEqual([e!.enrollment]);
  await inTenant((m) => suppressAddressAndStop(m, e!.email, 'unsubscribed'));
  expect(await events(`lead.unsubscribed:`)).toEqual([
    expect.objectContaining({
      customer_id: customer(),
      campaign_id: e!.campaign,
      enrollment_id: e!.enrollment,
      lead_id: e!.lead,
      dedupe_key: `lead.unsubscribed:${e!.enrollment}`,
    }),
  ]);
  await inTenant((m) => suppressAddressAndStop(m, 'new-one@lead.example', 'unsubscribed'));
  await inTenant((m) => suppressAddressAndStop(m, 'new-one@lead.example', 'unsubscribed'));
  expect((await events(`lead.unsubscribed:${made.id}`)).map((r) => [r.lead_id, r.enrollment_id])).toEqual([[made.id, null]]);
  // A bounce suppresses too, but is no unsubscribe.
  const [f] = await enrolled();
  await inTenant((m) => suppressAddressAndStop(m, f!.email, 'bounced'));
  expect(await events(`lead.unsubscribed:${f!.enrollment}`)).toEqual([]);
});

it("a campaign's completion at its last enrollment's end writes campaign.completed", async () => {
  const [e] = await enrolled();
  await inTenant((m) => m.query("UPDATE enrollments SET status = 'completed' WHERE id = $1", [e!.enrollment]));
  const [c] = (await inTenant((m) => m.query('SELECT status, updated_at FROM campaigns WHERE id = $1', [e!.campaign]))) as {
    status: string;
    updated_at: Date;
  }[];
  expect(c!.status).toBe('completed');
  expect(await events(`campaign.completed:${e!.campaign}:`)).toEqual([
    expect.objectContaining({
      type: 'campaign.completed',
      occurred_at: c!.updated_at,
      customer_id: customer(),
      campaign_id: e!.campaign,
      dedupe_key: `campaign.completed:${e!.campaign}:${ms(c!.updated_at)}`,
    }),
  ]);
});
