// Inbound mail threaded and stored once (db/inboundMail.ts), from raw RFC 822
// text through the reader's own parser: each way a reply names its thread,
// a stranger's mail left out, a colleague's in their own conversation,
// auto-replies, bounce reports, attachments, and the same mail stored twice
// — one after the other and by two transactions at once.
import { type DataSource } from 'typeorm';
import { contentKey, storeInboundMail, storedMessageId } from './inboundMail';
import { advanceCheckpoint, skippedMailNote } from './mailboxes';
import { newId } from './ids';
import { insertSendingMessage } from './messages';
import { updateConversation } from './conversations';
import { withTenant } from './tenantContext';
import { parseMail } from '../activities/providers/imapMailbox';
import { MAX_ATTACHMENT_BYTES, type InboundMail } from '../lib/inboundMail';
import { replyAddress } from '../lib/messageIds';
import { createTestDatabase, openDataSource, type TestDatabase } from '../test/helpers/database';
import { createTenant, type TenantFixture } from '../test/helpers/fixtures';
import { sendMessageId } from '../workflows/enrollLead.contract';

let db: TestDatabase;
let app: DataSource;
let t: TenantFixture;

beforeAll(async () => {
  db = await createTestDatabase('inbound_mail');
  app = await openDataSource(db.appUrl);
  t = await createTenant(app, { customers: 2 });
});

afterAll(async () => {
  await app?.destroy();
  await db?.drop();
});

const tenant = () => t.tenant.id;

interface Setup {
  customer: string;
  inbox: string;
  inboxEmail: string;
  campaign: string;
  leads: { id: string; email: string; enrollment: string; sent: string; conversation: string }[];
}

/** An inbox of the customer, a campaign sending from it, and `n` leads each sent step 1 (accepted). */
async function setup(n: number, opts: { customer?: number; autoReplyStops?: boolean; enrollmentStatus?: string } = {}): Promise<Setup> {
  const customer = t.customers[opts.customer ?? 0]!.id;
  return withTenant(app, tenant(), async (m) => {
    const inbox = newId('inb');
    const inboxEmail = `sales-${inbox.slice(-6)}@agency.example`;
    await m.query(
      "INSERT INTO inboxes (tenant_id, id, customer_id, provider, from_email, daily_cap, smtp_host, smtp_port, smtp_secure) VALUES (current_setting('app.tenant_id')::uuid, $1, $2, 'smtp', $3, 50, 'localhost', 25, false)",
      [inbox, customer, inboxEmail],
    );
    const campaign = newId('cmp');
    await m.query(
      `INSERT INTO campaigns (tenant_id, id, customer_id, name, status, timezone, days, window_start, window_end, auto_reply_stops)
       VALUES (current_setting('app.tenant_id')::uuid, $1, $2, 'Inbound', 'active', 'UTC', '{1,2,3,4,5}', '09:00', '17:00', $3)`,
      [campaign, customer, opts.autoReplyStops ?? false],
    );
    const leads: Setup['leads'] = [];
    for (let i = 0; i < n; i++) {
      const id = newId('lead');
      const email = `${id.slice(-8)}@lead.example`;
      await m.query("INSERT INTO leads (tenant_id, id, customer_id, email, source) VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, 'api')", [
        id,
        customer,
        email,
      ]);
      const enrollment = newId('enr');
      await m.query(
        "INSERT INTO enrollments (tenant_id, id, customer_id, campaign_id, lead_id, inbox_id, status, next_send_at) VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, $4, $5, $6, now() + interval '2 days')",
        [enrollment, customer, campaign, id, inbox, opts.enrollmentStatus ?? 'active'],
      );
      const sent = sendMessageId(tenant(), enrollment, 1, inboxEmail);
      const rowId = newId('msg');
      await insertSendingMessage(
        m,
        {
          id: rowId,
          customerId: customer,
          campaignId: campaign,
          enrollmentId: enrollment,
          leadId: id,
          inboxId: inbox,
          step: 1,
          messageId: sent,
          scheduledAt: new Date(),
        },
        { subject: 'Quick question', body: 'Hi there', unsubscribeToken: `u_${rowId}` },
      );
      await m.query("UPDATE messages SET status = 'accepted', sent_at = now() WHERE id = $1", [rowId]);
      const [row] = (await m.query('SELECT conversation_id FROM messages WHERE id = $1', [rowId])) as { conversation_id: string }[];
      leads.push({ id, email, enrollment, sent, conversation: row!.conversation_id });
    }
    return { customer, inbox, inboxEmail, campaign, leads };
  });
}

let uid = 0;

/** A raw RFC 822 mail parsed as the reader parses it. */
async function mail(headers: Record<string, string | undefined>, body = 'Sounds good, tell me more.', opts: { raw?: string } = {}): Promise<InboundMail> {
  // Dated now: a mail dated before its enrollment began stops nothing.
  const lines = Object.entries({ Date: new Date().toUTCString(), Subject: 'Re: Quick question', ...headers })
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => `${k}: ${v}`);
  const raw = opts.raw ?? [...lines, '', body, ''].join('\r\n');
  uid += 1;
  return { ...(await parseMail(raw)), uid, size: raw.length, truncated: false };
}

const store = (s: Setup, mails: InboundMail[]) => withTenant(app, tenant(), (m) => storeInboundMail(m, s.inbox, mails));

async function stored(messageId: string) {
  const [row] = (await withTenant(app, tenant(), (m) =>
    m.query(
      `SELECT m.id, m.conversation_id, m.lead_id, m.enrollment_id, m.campaign_id, m.origin, m.direction, m.status, m.subject, m.body, m.body_html,
              m.from_email, m.auto_reply
         FROM messages m WHERE m.message_id = $1`,
      [messageId],
    ),
  )) as Record<string, unknown>[];
  return row;
}

async function conversation(id: string) {
  const [row] = (await withTenant(app, tenant(), (m) =>
    m.query('SELECT id, lead_id, inbox_id, status, snoozed_until, unread_count, last_message_at FROM conversations WHERE id = $1', [id]),
  )) as { id: string; lead_id: string; inbox_id: string; status: string; unread_count: number; last_message_at: Date }[];
  return row;
}

async function enrollment(id: string) {
  const [row] = (await withTenant(app, tenant(), (m) =>
    m.query('SELECT e.status, e.next_send_at, l.status AS lead_status FROM enrollments e JOIN leads l ON l.id = e.lead_id WHERE e.id = $1', [id]),
  )) as { status: string; next_send_at: Date | null; lead_status: string }[];
  return row;
}

describe('threading', () => {
  it('a reply with In-Reply-To lands in its conversation, stops its sequence, and a reply to that reply threads too', async () => {
    const s = await setup(1);
    const lead = s.leads[0]!;
    const reply = await mail(
      {
        From: `Lena <${lead.email.toUpperCase()}>`,
        To: s.inboxEmail,
        'Message-ID': '<r1-' + lead.id + '@lead.example>',
        'In-Reply-To': lead.sent,
        'MIME-Version': '1.0',
        'Content-Type': 'multipart/alternative; boundary="ALT"',
      },
      ['--ALT', 'Content-Type: text/plain', '', 'Yes please.', '--ALT', 'Content-Type: text/html', '', '<p>Yes <b>please</b>.</p>', '--ALT--'].join('\r\n'),
    );
    const result = await store(s, [reply]);
    expect(result).toEqual({ stored: 1, ignored: 0, stops: [{ enrollmentId: lead.enrollment, campaignId: s.campaign, leadId: lead.id, outcome: 'replied' }] });
    expect(await stored(`<r1-${lead.id}@lead.example>`)).toMatchObject({
      conversation_id: lead.conversation,
      lead_id: lead.id,
      enrollment_id: lead.enrollment,
      campaign_id: s.campaign,
      origin: 'sequence',
      direction: 'inbound',
      status: 'received',
      subject: 'Re: Quick question',
      from_email: lead.email,
      auto_reply: false,
      body_html: '<p>Yes <b>please</b>.</p>',
    });
    expect(await conversation(lead.conversation)).toMatchObject({ status: 'open', unread_count: 1 });
    expect(await enrollment(lead.enrollment)).toEqual({ status: 'replied', next_send_at: null, lead_status: 'replied' });

    // The lead answers their own reply: it threads by the stored reply's Message-ID; the sequence has already stopped.
    const again = await mail({
      From: lead.email,
      To: s.inboxEmail,
      'Message-ID': `<r2-${lead.id}@lead.example>`,
      'In-Reply-To': `<r1-${lead.id}@lead.example>`,
    });
    expect(await store(s, [again])).toEqual({ stored: 1, ignored: 0, stops: [] });
    expect(await stored(`<r2-${lead.id}@lead.example>`)).toMatchObject({ conversation_id: lead.conversation });
    expect((await conversation(lead.conversation))!.unread_count).toBe(2);
  });

  it('a reply with only References threads by the newest one that is ours', async () => {
    const s = await setup(1);
    const lead = s.leads[0]!;
    const reply = await mail({
      From: lead.email,
      To: s.inboxEmail,
      'Message-ID': `<refs-${lead.id}@lead.example>`,
      References: `${lead.sent} <unknown-1@elsewhere.example>`,
    });
    expect(reply.inReplyTo).toBeNull();
    const result = await store(s, [reply]);
    expect(result.stored).toBe(1);
    expect(await stored(`<refs-${lead.id}@lead.example>`)).toMatchObject({ conversation_id: lead.conversation, enrollment_id: lead.enrollment });
    expect((await enrollment(lead.enrollment))!.status).toBe('replied');
  });

  it('a reply with neither header threads by our Message-ID quoted in its text', async () => {
    const s = await setup(1);
    const lead = s.leads[0]!;
    const reply = await mail(
      { From: lead.email, To: s.inboxEmail, 'Message-ID': `<quoted-${lead.id}@lead.example>` },
      ['Happy to chat.', '', '-----Original Message-----', `Message-ID: ${lead.sent}`, '> Hi there'].join('\r\n'),
    );
    expect(reply.inReplyTo).toBeNull();
    expect(reply.references).toEqual([]);
    await store(s, [reply]);
    expect(await stored(`<quoted-${lead.id}@lead.example>`)).toMatchObject({ conversation_id: lead.conversation, enrollment_id: lead.enrollment });
  });

  it('a reply to the plus address of a conversation lands in it', async () => {
    const s = await setup(1);
    const lead = s.leads[0]!;
    const reply = await mail({ From: lead.email, To: replyAddress(s.inboxEmail, lead.conversation), 'Message-ID': `<plus-${lead.id}@lead.example>` });
    const result = await store(s, [reply]);
    expect(result.stops).toEqual([{ enrollmentId: lead.enrollment, campaignId: s.campaign, leadId: lead.id, outcome: 'replied' }]);
    expect(await stored(`<plus-${lead.id}@lead.example>`)).toMatchObject({ conversation_id: lead.conversation, enrollment_id: lead.enrollment });
  });

  it("a stranger's answer to a campaign mail is not stored; a colleague who is a lead gets their own conversation", async () => {
    const s = await setup(2);
    const [lena, colleague] = s.leads as [Setup['leads'][number], Setup['leads'][number]];
    const other = await setup(1, { customer: 1 });
    const stranger = await mail({
      From: 'someone@unknown.example',
      To: s.inboxEmail,
      'Message-ID': `<stranger-${lena.id}@x.example>`,
      'In-Reply-To': lena.sent,
    });
    // A lead of another customer is a stranger to this inbox too.
    const foreign = await mail({ From: other.leads[0]!.email, To: s.inboxEmail, 'Message-ID': `<foreign-${lena.id}@x.example>`, 'In-Reply-To': lena.sent });
    const fromColleague = await mail({ From: colleague.email, To: s.inboxEmail, 'Message-ID': `<colleague-${lena.id}@x.example>`, 'In-Reply-To': lena.sent });
    const result = await store(s, [stranger, foreign, fromColleague]);
    expect(result).toEqual({
      stored: 1,
      ignored: 2,
      stops: [{ enrollmentId: colleague.enrollment, campaignId: s.campaign, leadId: colleague.id, outcome: 'replied' }],
    });
    expect(await stored(`<stranger-${lena.id}@x.example>`)).toBeUndefined();
    expect(await stored(`<foreign-${lena.id}@x.example>`)).toBeUndefined();
    expect(await stored(`<colleague-${lena.id}@x.example>`)).toMatchObject({ conversation_id: colleague.conversation, lead_id: colleague.id });
    expect(await conversation(lena.conversation)).toMatchObject({ unread_count: 0 });
    expect((await enrollment(lena.enrollment))!.status).toBe('active');
    // No lead was made for the stranger.
    const leads = await withTenant(app, tenant(), (m) => m.query("SELECT count(*)::int AS n FROM leads WHERE email = 'someone@unknown.example'"));
    expect(leads[0].n).toBe(0);
  });

  it('an unthreaded mail from a known lead goes to their conversation with the inbox, made when there is none', async () => {
    const s = await setup(1);
    const lead = s.leads[0]!;
    const fresh = await mail({ From: lead.email, To: s.inboxEmail, Subject: 'A question of my own', 'Message-ID': `<own-${lead.id}@lead.example>` });
    await store(s, [fresh]);
    expect(await stored(`<own-${lead.id}@lead.example>`)).toMatchObject({ conversation_id: lead.conversation, enrollment_id: lead.enrollment });

    // A lead of the customer with no conversation with this inbox yet.
    const newcomer = newId('lead');
    await withTenant(app, tenant(), (m) =>
      m.query("INSERT INTO leads (tenant_id, id, customer_id, email, source) VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, 'api')", [
        newcomer,
        s.customer,
        `${newcomer.slice(-8)}@lead.example`,
      ]),
    );
    const first = await mail({
      From: `${newcomer.slice(-8)}@lead.example`,
      To: s.inboxEmail,
      Subject: 'Hello',
      'Message-ID': `<first-${newcomer}@lead.example>`,
    });
    expect(await store(s, [first])).toEqual({ stored: 1, ignored: 0, stops: [] });
    const row = (await stored(`<first-${newcomer}@lead.example>`))!;
    expect(row).toMatchObject({ lead_id: newcomer, enrollment_id: null, campaign_id: null, origin: 'manual' });
    expect(await conversation(row.conversation_id as string)).toMatchObject({ lead_id: newcomer, inbox_id: s.inbox, unread_count: 1 });
  });
});

describe('what a stored mail does to its thread and sequence', () => {
  it('an auto-reply is kept in the thread and leaves the sequence running', async () => {
    const s = await setup(1);
    const lead = s.leads[0]!;
    const ooo = await mail({
      From: lead.email,
      To: s.inboxEmail,
      Subject: 'Automatic reply: Quick question',
      'Message-ID': `<ooo-${lead.id}@lead.example>`,
      'In-Reply-To': lead.sent,
      'Auto-Submitted': 'auto-replied',
    });
    expect(await store(s, [ooo])).toEqual({ stored: 1, ignored: 0, stops: [] });
    expect(await stored(`<ooo-${lead.id}@lead.example>`)).toMatchObject({ conversation_id: lead.conversation, auto_reply: true });
    expect(await enrollment(lead.enrollment)).toMatchObject({ status: 'active', lead_status: 'active' });
    expect((await conversation(lead.conversation))!.unread_count).toBe(1);
  });

  it('an auto-reply stops the sequence when its campaign says so', async () => {
    const s = await setup(1, { autoReplyStops: true });
    const lead = s.leads[0]!;
    const ooo = await mail({
      From: lead.email,
      To: s.inboxEmail,
      'Message-ID': `<ooo-${lead.id}@lead.example>`,
      'In-Reply-To': lead.sent,
      'X-Autoreply': 'yes',
    });
    expect((await store(s, [ooo])).stops).toEqual([{ enrollmentId: lead.enrollment, campaignId: s.campaign, leadId: lead.id, outcome: 'replied' }]);
    expect(await enrollment(lead.enrollment)).toMatchObject({ status: 'replied', lead_status: 'replied' });
  });

  it('a pending enrollment is stopped and returned too', async () => {
    const s = await setup(1, { enrollmentStatus: 'pending' });
    const lead = s.leads[0]!;
    const reply = await mail({ From: lead.email, To: s.inboxEmail, 'Message-ID': `<p-${lead.id}@lead.example>`, 'In-Reply-To': lead.sent });
    expect((await store(s, [reply])).stops).toEqual([{ enrollmentId: lead.enrollment, campaignId: s.campaign, leadId: lead.id, outcome: 'replied' }]);
  });

  it('a new inbound message reopens a closed or snoozed conversation and moves its last message time forward only', async () => {
    const s = await setup(1);
    const lead = s.leads[0]!;
    await withTenant(app, tenant(), (m) => updateConversation(m, lead.conversation, { status: 'closed', read: true }));
    const before = (await conversation(lead.conversation))!;
    // Dated in the past: the thread's time does not go back.
    const reply = await mail({
      From: lead.email,
      To: s.inboxEmail,
      Date: 'Mon, 01 Jan 2024 10:00:00 +0000',
      'Message-ID': `<reopen-${lead.id}@lead.example>`,
      'In-Reply-To': lead.sent,
    });
    await store(s, [reply]);
    const after = (await conversation(lead.conversation))!;
    expect(after).toMatchObject({ status: 'open', unread_count: 1 });
    expect(after.last_message_at.getTime()).toBe(before.last_message_at.getTime());

    await withTenant(app, tenant(), (m) => updateConversation(m, lead.conversation, { status: 'snoozed', snoozedUntil: new Date(Date.now() + 86_400_000) }));
    const later = await mail({
      From: lead.email,
      To: s.inboxEmail,
      Date: new Date().toUTCString(),
      'Message-ID': `<reopen2-${lead.id}@lead.example>`,
      'In-Reply-To': lead.sent,
    });
    await store(s, [later]);
    const woken = (await conversation(lead.conversation))!;
    expect(woken).toMatchObject({ status: 'open', snoozed_until: null, unread_count: 2 });
    expect(woken.last_message_at.getTime()).toBeGreaterThan(before.last_message_at.getTime() - 1000);
  });

  it('a bounce report marks the bounce and is kept in the thread', async () => {
    const s = await setup(1);
    const lead = s.leads[0]!;
    const raw = [
      'From: Mail Delivery System <MAILER-DAEMON@mx.lead.example>',
      `To: ${s.inboxEmail}`,
      'Subject: Undelivered Mail Returned to Sender',
      `Date: ${new Date().toUTCString()}`,
      `Message-ID: <dsn-${lead.id}@mx.lead.example>`,
      'Auto-Submitted: auto-replied',
      'MIME-Version: 1.0',
      'Content-Type: multipart/report; report-type=delivery-status; boundary="REPORT"',
      '',
      '--REPORT',
      'Content-Type: text/plain; charset=us-ascii',
      '',
      'Your message could not be delivered.',
      '',
      '--REPORT',
      'Content-Type: message/delivery-status',
      '',
      'Reporting-MTA: dns; mx.lead.example',
      '',
      `Final-Recipient: rfc822; ${lead.email}`,
      'Action: failed',
      'Status: 5.1.1',
      '',
      '--REPORT',
      'Content-Type: text/rfc822-headers',
      '',
      `From: ${s.inboxEmail}`,
      `To: ${lead.email}`,
      'Subject: Quick question',
      `Message-ID: ${lead.sent}`,
      '',
      '--REPORT--',
      '',
    ].join('\r\n');
    const dsn = await mail({}, '', { raw });
    expect(dsn.bounce).toMatchObject({ failed: true, originalMessageId: lead.sent });
    expect(await store(s, [dsn])).toEqual({
      stored: 1,
      ignored: 0,
      stops: [{ enrollmentId: lead.enrollment, campaignId: s.campaign, leadId: lead.id, outcome: 'bounced' }],
    });
    expect(await enrollment(lead.enrollment)).toEqual({ status: 'bounced', next_send_at: null, lead_status: 'bounced' });
    expect(await stored(`<dsn-${lead.id}@mx.lead.example>`)).toMatchObject({ conversation_id: lead.conversation, from_email: 'mailer-daemon@mx.lead.example' });
  });
});

describe('old mail', () => {
  it("a lead's mail dated before the enrollment began is stored in the thread but leaves the sequence running", async () => {
    const s = await setup(1);
    const lead = s.leads[0]!;
    // The first read of a mailbox (from UID 0) finds the lead's mail from last year.
    const old = await mail({ From: lead.email, To: s.inboxEmail, Date: 'Mon, 01 Dec 2025 10:00:00 +0000', 'Message-ID': `<old-${lead.id}@lead.example>` });
    const r = await store(s, [old]);
    expect(r).toEqual({ stored: 1, ignored: 0, stops: [] });
    expect(await stored(`<old-${lead.id}@lead.example>`)).toMatchObject({ conversation_id: lead.conversation, enrollment_id: lead.enrollment });
    expect(await enrollment(lead.enrollment)).toMatchObject({ status: 'active', lead_status: 'active' });

    // Old too: an answer to the step dated well before that step was sent.
    const stale = await mail({
      From: lead.email,
      To: s.inboxEmail,
      Date: 'Mon, 01 Dec 2025 11:00:00 +0000',
      'Message-ID': `<stale-${lead.id}@lead.example>`,
      'In-Reply-To': lead.sent,
    });
    expect((await store(s, [stale])).stops).toEqual([]);
    expect((await enrollment(lead.enrollment))!.status).toBe('active');

    // An answer to the step whose sender's clock is an hour behind is a reply all the same.
    const skewed = await mail({
      From: lead.email,
      To: s.inboxEmail,
      Date: new Date(Date.now() - 3600_000).toUTCString(),
      'Message-ID': `<skewed-${lead.id}@lead.example>`,
      'In-Reply-To': lead.sent,
    });
    expect((await store(s, [skewed])).stops).toHaveLength(1);
    expect(await enrollment(lead.enrollment)).toMatchObject({ status: 'replied', lead_status: 'replied' });
  });
});

describe('stored once', () => {
  it('a mail without a Message-ID is stored once, under its content, whatever UID and UIDVALIDITY it is read under', async () => {
    const s = await setup(1);
    const lead = s.leads[0]!;
    const bare = await mail({ From: lead.email, To: s.inboxEmail, 'In-Reply-To': lead.sent });
    expect(bare.messageId).toBeNull();
    expect((await store(s, [bare])).stored).toBe(1);
    expect(await store(s, [bare])).toEqual({ stored: 0, ignored: 1, stops: [] });
    // The mailbox recreated (a new UIDVALIDITY) gives the same mail another UID: still the same mail.
    const again = { ...bare, uid: bare.uid + 1000 };
    expect(await withTenant(app, tenant(), (m) => storeInboundMail(m, s.inbox, [again]))).toEqual({
      stored: 0,
      ignored: 1,
      stops: [],
    });
    const key = contentKey(s.inbox, bare);
    expect(key).toMatch(/^<imap\.[0-9a-f]{64}\.inb_[0-9a-z]+@mailbox\.invalid>$/);
    expect(await stored(key)).toMatchObject({ conversation_id: lead.conversation });
    expect((await conversation(lead.conversation))!.unread_count).toBe(1);
    // Another mail without a Message-ID (another text) is another message.
    const other = await mail({ From: lead.email, To: s.inboxEmail, 'In-Reply-To': lead.sent }, 'Something else.');
    expect((await store(s, [other])).stored).toBe(1);
  });

  it('the same batch stored twice adds nothing the second time', async () => {
    const s = await setup(2);
    const batch = await Promise.all(
      s.leads.map((l) => mail({ From: l.email, To: s.inboxEmail, 'Message-ID': `<twice-${l.id}@lead.example>`, 'In-Reply-To': l.sent })),
    );
    expect((await store(s, batch)).stored).toBe(2);
    expect(await store(s, batch)).toEqual({ stored: 0, ignored: 2, stops: [] });
    for (const l of s.leads) expect((await conversation(l.conversation))!.unread_count).toBe(1);
    const rows = await withTenant(app, tenant(), (m) =>
      m.query('SELECT count(*)::int AS n FROM messages WHERE message_id = ANY($1)', [batch.map((b) => b.messageId)]),
    );
    expect(rows[0].n).toBe(2);
  });

  it('two transactions storing the same mail at once store it once and count it unread once', async () => {
    const s = await setup(1);
    const lead = s.leads[0]!;
    const reply = await mail({ From: lead.email, To: s.inboxEmail, 'Message-ID': `<race-${lead.id}@lead.example>`, 'In-Reply-To': lead.sent });
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let firstStored!: () => void;
    const firstDone = new Promise<void>((resolve) => (firstStored = resolve));
    const first = withTenant(app, tenant(), async (m) => {
      const r = await storeInboundMail(m, s.inbox, [reply]);
      firstStored();
      await held; // the first transaction stays open while the second stores the same mail
      return r;
    });
    await firstDone;
    const second = withTenant(app, tenant(), (m) => storeInboundMail(m, s.inbox, [reply]));
    // The second waits on the first's uncommitted row; let it queue, then commit the first.
    await new Promise((resolve) => setTimeout(resolve, 300));
    release();
    const [a, b] = await Promise.all([first, second]);
    expect(a.stored + b.stored).toBe(1);
    expect(a.stops.length + b.stops.length).toBe(1);
    expect((await conversation(lead.conversation))!.unread_count).toBe(1);
  });
});

describe('attachments', () => {
  it('keeps the bytes of an attachment within the limit and only the metadata of a larger one', async () => {
    const s = await setup(1);
    const lead = s.leads[0]!;
    const big = Buffer.alloc(MAX_ATTACHMENT_BYTES + 1, 0x41);
    const raw = [
      `From: ${lead.email}`,
      `To: ${s.inboxEmail}`,
      'Subject: Re: Quick question',
      `Message-ID: <att-${lead.id}@lead.example>`,
      `In-Reply-To: ${lead.sent}`,
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="MIX"',
      '',
      '--MIX',
      'Content-Type: text/plain',
      '',
      'Deck and archive attached.',
      '--MIX',
      'Content-Type: application/pdf; name="deck.pdf"',
      'Content-Disposition: attachment; filename="deck.pdf"',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from('%PDF-1.4 pretend deck').toString('base64'),
      '--MIX',
      'Content-Type: application/zip; name="huge.zip"',
      'Content-Disposition: attachment; filename="huge.zip"',
      'Content-Transfer-Encoding: base64',
      '',
      big.toString('base64').replace(/.{76}/g, '$&\r\n'),
      '--MIX--',
      '',
    ].join('\r\n');
    const parsed = await mail({}, '', { raw });
    expect(parsed.attachments.map((a) => [a.filename, a.size, a.content?.length])).toEqual([
      ['deck.pdf', 21, 21],
      ['huge.zip', MAX_ATTACHMENT_BYTES + 1, undefined],
    ]);
    await store(s, [parsed]);
    const row = (await stored(`<att-${lead.id}@lead.example>`))!;
    const atts = (await withTenant(app, tenant(), (m) =>
      m.query('SELECT customer_id, filename, content_type, size, content FROM message_attachments WHERE message_id = $1 ORDER BY filename', [row.id]),
    )) as { customer_id: string; filename: string; content_type: string; size: number; content: Buffer | null }[];
    expect(atts).toEqual([
      { customer_id: s.customer, filename: 'deck.pdf', content_type: 'application/pdf', size: 21, content: Buffer.from('%PDF-1.4 pretend deck') },
      { customer_id: s.customer, filename: 'huge.zip', content_type: 'application/zip', size: MAX_ATTACHMENT_BYTES + 1, content: null },
    ]);
  });
});

describe('mail the database could not hold', () => {
  it('stores a mail with encoded NULs cleaned and one with a 3 KB Message-ID under its digest, beside normal mail', async () => {
    const s = await setup(1);
    const lead = s.leads[0]!;
    const before = await mail({ From: lead.email, To: s.inboxEmail, 'Message-ID': `<before-${lead.id}@lead.example>` }, 'First.');
    const nul = await mail(
      {
        From: `=?utf-8?Q?Le=00na?= <${lead.email}>`,
        To: s.inboxEmail,
        Subject: '=?utf-8?Q?Re=3A_Quick=00_question?=',
        'Message-ID': `<nul-${lead.id}@lead.example>`,
        'MIME-Version': '1.0',
        'Content-Type': 'multipart/mixed; boundary="MIX"',
      },
      [
        '--MIX',
        'Content-Type: text/plain; charset=utf-8',
        'Content-Transfer-Encoding: quoted-printable',
        '',
        'Yes=00, tell me more.',
        '--MIX',
        'Content-Type: text/html; charset=utf-8',
        'Content-Transfer-Encoding: quoted-printable',
        '',
        '<p>Yes=00</p>',
        '--MIX',
        'Content-Type: application/pdf',
        "Content-Disposition: attachment; filename*=utf-8''de%00ck.pdf",
        '',
        'pdf',
        '--MIX--',
      ].join('\r\n'),
    );
    expect(nul.subject).toBe('Re: Quick question');
    expect(nul.text).toMatch(/^Yes, tell me more\./);
    expect(nul.html).toContain('<p>Yes</p>');
    expect(JSON.stringify(nul)).not.toContain('\\u0000');
    expect(nul.from).toEqual({ address: lead.email, name: 'Lena' });
    expect(nul.attachments[0]!.filename).toBe('deck.pdf');
    const longId = `<${'x'.repeat(3000)}.${lead.id}@lead.example>`;
    const long = await mail({ From: lead.email, To: s.inboxEmail, 'Message-ID': longId }, 'Long id.');
    const after = await mail({ From: lead.email, To: s.inboxEmail, 'Message-ID': `<after-${lead.id}@lead.example>` }, 'Last.');

    const r = await store(s, [before, nul, long, after]);
    expect(r).toMatchObject({ stored: 4, ignored: 0 });
    expect(r.skipped).toBeUndefined();
    expect(await stored(`<nul-${lead.id}@lead.example>`)).toMatchObject({ subject: 'Re: Quick question', body: nul.text, body_html: nul.html });
    const key = storedMessageId(longId);
    expect(key.length).toBeLessThan(100);
    expect(key).toMatch(/@mailbox\.invalid>$/);
    expect(await stored(key)).toMatchObject({ body: 'Long id.\n', conversation_id: lead.conversation });
    // The same mail again is found under the same digest, and an answer naming it threads to it.
    expect((await store(s, [long])).stored).toBe(0);
    const answer = await mail({ From: lead.email, To: s.inboxEmail, 'Message-ID': `<answer-${lead.id}@lead.example>`, 'In-Reply-To': longId }, 'Again.');
    expect((await store(s, [answer])).stored).toBe(1);
    expect(await stored(`<answer-${lead.id}@lead.example>`)).toMatchObject({ conversation_id: lead.conversation });
  });

  it('leaves out a mail the database still refuses, stores the rest, and the note names it until mail is read again', async () => {
    const s = await setup(1);
    const lead = s.leads[0]!;
    const first = await mail({ From: lead.email, To: s.inboxEmail, 'Message-ID': `<ok1-${lead.id}@lead.example>` }, 'One.');
    const parsed = await mail({ From: lead.email, To: s.inboxEmail, 'Message-ID': `<bad-${lead.id}@lead.example>` }, 'Two.');
    // Past the parser's cleaning (a record from elsewhere): the database refuses the NUL.
    const refused = { ...parsed, subject: 'Re:\u0000 Quick question' };
    const last = await mail({ From: lead.email, To: s.inboxEmail, 'Message-ID': `<ok2-${lead.id}@lead.example>` }, 'Three.');
    const note = await withTenant(app, tenant(), async (m) => {
      const r = await storeInboundMail(m, s.inbox, [first, refused, last]);
      expect(r).toMatchObject({ stored: 2, ignored: 0, skipped: [{ uid: refused.uid, reason: 'it holds characters that cannot be stored' }] });
      const text = skippedMailNote(r.skipped!);
      await advanceCheckpoint(m, s.inbox, { uidValidity: '7', lastUid: last.uid, stored: r.stored, read: 3, skipped: text });
      return text;
    });
    expect(note).toBe(`1 mail could not be stored (UID ${refused.uid}): it holds characters that cannot be stored`);
    expect(await stored(`<ok1-${lead.id}@lead.example>`)).toBeDefined();
    expect(await stored(`<ok2-${lead.id}@lead.example>`)).toBeDefined();
    expect(await stored(`<bad-${lead.id}@lead.example>`)).toBeUndefined();
    const checkpoint = async () =>
      (
        (await withTenant(app, tenant(), (m) => m.query('SELECT last_uid::int, error FROM inbox_mailboxes WHERE inbox_id = $1', [s.inbox]))) as {
          last_uid: number;
          error: string | null;
        }[]
      )[0];
    expect(await checkpoint()).toEqual({ last_uid: last.uid, error: note });
    // A poll that finds nothing new keeps the note; the next read mail clears it.
    await withTenant(app, tenant(), (m) => advanceCheckpoint(m, s.inbox, { uidValidity: '7', lastUid: last.uid, stored: 0, read: 0 }));
    expect((await checkpoint())!.error).toBe(note);
    await withTenant(app, tenant(), (m) => advanceCheckpoint(m, s.inbox, { uidValidity: '7', lastUid: last.uid + 1, stored: 1, read: 1 }));
    expect((await checkpoint())!.error).toBeNull();
  });
});
