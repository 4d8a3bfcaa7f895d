// The conversation routes: the list's filters and search, one thread with its
// messages, what PATCH changes (and refuses), and the customer scope — a
// member restricted to one customer never sees another's threads, not even
// through `q`. Threads are seeded through the send path's own records.
import type Koa from 'koa';
import { type DataSource } from 'typeorm';
import { type AppState } from './state';
import { parseMail } from '../activities/providers/imapMailbox';
import { recordReplyOrBounce } from '../db/emailEvents';
import { storeInboundMail } from '../db/inboundMail';
import { newId } from '../db/ids';
import { insertSendingMessage } from '../db/messages';
import { withTenant } from '../db/tenantContext';
import { MAX_ATTACHMENT_BYTES } from '../lib/inboundMail';
import { testApp, type Agent } from '../test/helpers/api';
import { addMember, createTenant, createUser, type TenantFixture } from '../test/helpers/fixtures';
import { signedInMembers, useSuiteDatabase } from '../test/helpers/suite';

const suite = useSuiteDatabase('conversations_api');
let ds: DataSource;
let app: Koa<AppState>;
let t: TenantFixture;
let other: TenantFixture;
let owner: Agent;
let viewer: Agent;
let restricted: Agent;
let seeds: Seeded[];

interface Seeded {
  customer: string;
  inbox: string;
  campaign: string;
  lead: string;
  email: string;
  enrollment: string;
  conversation: string;
}

const c = (i: number) => t.customers[i]!.id;

/** A lead of `customer` sent step 1 of a campaign from a new inbox, and — when `replied` — its reply. */
async function seed(
  tenant: TenantFixture,
  customer: string,
  who: { email: string; first: string; last: string; subject: string; replied: boolean },
): Promise<Seeded> {
  return withTenant(ds, tenant.tenant.id, async (m) => {
    const inbox = newId('inb');
    await m.query(
      `INSERT INTO inboxes (tenant_id, id, customer_id, provider, from_email, daily_cap, smtp_host, smtp_port, smtp_secure)
       VALUES (current_setting('app.tenant_id')::uuid, $1, $2, 'smtp', $3, 50, 'localhost', 25, false)`,
      [inbox, customer, `${inbox}@sender.example`],
    );
    const campaign = newId('cmp');
    await m.query(
      `INSERT INTO campaigns (tenant_id, id, customer_id, name, status, timezone, days, window_start, window_end)
       VALUES (current_setting('app.tenant_id')::uuid, $1, $2, 'Threads', 'active', 'UTC', '{1,2,3,4,5}', '09:00', '17:00')`,
      [campaign, customer],
    );
    const lead = newId('lead');
    await m.query(
      "INSERT INTO leads (tenant_id, id, customer_id, email, first_name, last_name, source) VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, $4, $5, 'api')",
      [lead, customer, who.email, who.first, who.last],
    );
    const enrollment = newId('enr');
    await m.query(
      "INSERT INTO enrollments (tenant_id, id, customer_id, campaign_id, lead_id, inbox_id, status) VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, $4, $5, 'active')",
      [enrollment, customer, campaign, lead, inbox],
    );
    const sent = newId('msg');
    await insertSendingMessage(
      m,
      {
        id: sent,
        customerId: customer,
        campaignId: campaign,
        enrollmentId: enrollment,
        leadId: lead,
        inboxId: inbox,
        step: 1,
        messageId: `<${sent}@sender.example>`,
        scheduledAt: new Date(),
      },
      { subject: who.subject, body: 'Hello', unsubscribeToken: `u_${sent}` },
    );
    if (who.replied) {
      const reply = newId('msg');
      await recordReplyOrBounce(
        m,
        tenant.tenant.id,
        { customer_id: customer, campaign_id: campaign, enrollment_id: enrollment, lead_id: lead, inbox_id: inbox },
        { inboundId: reply, inboundMessageId: `<${reply}@lead.example>`, subject: `Re: ${who.subject}`, body: 'Tell me more', outcome: 'replied', stops: true },
      );
    }
    const [row] = (await m.query('SELECT conversation_id FROM messages WHERE id = $1', [sent])) as { conversation_id: string }[];
    return { customer, inbox, campaign, lead, email: who.email, enrollment, conversation: row!.conversation_id };
  });
}

beforeAll(async () => {
  ds = suite.ds;
  app = testApp(ds);
  t = await createTenant(ds, { customers: 2 });
  other = await createTenant(ds, { customers: 1 });
  [owner, viewer, restricted] = await signedInMembers(ds, app, t, ['owner', 'viewer', ['member', c(0)]]);
  seeds = [
    await seed(t, c(0), { email: 'ann@acme.example', first: 'Ann', last: 'Archer', subject: 'Pricing for Acme', replied: true }),
    await seed(t, c(0), { email: 'bob@globex.example', first: 'Bob', last: 'Baker', subject: 'Quick question', replied: false }),
    await seed(t, c(1), { email: 'zed@secret.example', first: 'Zed', last: 'Acme', subject: 'Acme secret', replied: true }),
    await seed(other, other.customers[0]!.id, { email: 'ann@acme.example', first: 'Ann', last: 'Other', subject: 'Pricing for Acme', replied: true }),
  ];
});

type Listed = { id: string; lead: { email: string }; unreadCount: number; status: string; campaignIds: string[]; assigneeMemberId: string | null };
const list = async (agent: Agent, customer: string, query = '') => {
  const res = await agent.get(`/api/conversations${query}`).set('X-Customer-Id', customer);
  expect(res.status).toBe(200);
  return res.body as { data: Listed[]; nextCursor: string | null };
};
const emails = async (agent: Agent, customer: string, query = '') => (await list(agent, customer, query)).data.map((r) => r.lead.email);

describe('GET /api/conversations', () => {
  it("lists the customer's conversations, latest message first, with unread counts and campaigns", async () => {
    const page = await list(owner, c(0));
    expect(page.data.map((r) => r.id)).toEqual([seeds[1]!.conversation, seeds[0]!.conversation]);
    expect(page.data[1]).toMatchObject({ lead: { email: 'ann@acme.example' }, unreadCount: 1, status: 'open', campaignIds: [seeds[0]!.campaign] });
    expect(page.data[0]).toMatchObject({ unreadCount: 0 });
  });

  it('pages with a cursor, neither skipping nor repeating', async () => {
    const first = await list(owner, c(0), '?limit=1');
    expect(first.data).toHaveLength(1);
    const second = await list(owner, c(0), `?limit=1&cursor=${first.nextCursor}`);
    expect(second.data).toHaveLength(1);
    expect(second.nextCursor).toBeNull();
    expect([first.data[0]!.id, second.data[0]!.id]).toEqual([seeds[1]!.conversation, seeds[0]!.conversation]);
  });

  it('puts unread conversations first with sort=unread, and pages that order without skipping or repeating', async () => {
    // Bob's conversation is the latest, Ann's has the unread reply.
    expect(await emails(owner, c(0), '?sort=unread')).toEqual(['ann@acme.example', 'bob@globex.example']);
    expect(await emails(owner, c(0), '?sort=latest')).toEqual(['bob@globex.example', 'ann@acme.example']);
    const first = await list(owner, c(0), '?sort=unread&limit=1');
    expect(first.data.map((r) => r.lead.email)).toEqual(['ann@acme.example']);
    const second = await list(owner, c(0), `?sort=unread&limit=1&cursor=${first.nextCursor}`);
    expect(second.data.map((r) => r.lead.email)).toEqual(['bob@globex.example']);
    expect(second.nextCursor).toBeNull();
    expect(await emails(owner, c(0), '?sort=unread&unread=false')).toEqual(['bob@globex.example']);
    // A latest-first cursor is not an unread-first one: refused, not misread.
    const latest = await list(owner, c(0), '?limit=1');
    expect((await owner.get(`/api/conversations?sort=unread&cursor=${latest.nextCursor}`).set('X-Customer-Id', c(0))).status).toBe(400);
    expect((await owner.get('/api/conversations?sort=oldest').set('X-Customer-Id', c(0))).status).toBe(400);
  });

  it('filters by unread, status, inbox, campaign and assignee, and searches address, name and subject', async () => {
    expect(await emails(owner, c(0), '?unread=true')).toEqual(['ann@acme.example']);
    expect(await emails(owner, c(0), '?unread=false')).toEqual(['bob@globex.example']);
    expect(await emails(owner, c(0), '?status=closed')).toEqual([]);
    expect(await emails(owner, c(0), `?inboxId=${seeds[1]!.inbox}`)).toEqual(['bob@globex.example']);
    expect(await emails(owner, c(0), `?campaignId=${seeds[0]!.campaign}`)).toEqual(['ann@acme.example']);
    expect(await emails(owner, c(0), '?assignee=none')).toHaveLength(2);
    expect(await emails(owner, c(0), '?q=globex')).toEqual(['bob@globex.example']);
    expect(await emails(owner, c(0), '?q=archer')).toEqual(['ann@acme.example']);
    expect(await emails(owner, c(0), '?q=pricing')).toEqual(['ann@acme.example']);
    expect(await emails(owner, c(0), '?q=100%25')).toEqual([]);
  });

  it("never shows another customer's or tenant's conversations, not even through q", async () => {
    expect(await emails(restricted, c(0), '?q=acme')).toEqual(['ann@acme.example']);
    expect(await emails(owner, c(0), '?q=secret')).toEqual([]);
    expect((await restricted.get('/api/conversations?q=secret').set('X-Customer-Id', c(1))).status).toBeGreaterThanOrEqual(400);
    expect((await restricted.get('/api/conversations').set('X-Customer-Id', c(1))).body.data).toBeUndefined();
  });

  it('refuses a bad filter with a 400', async () => {
    expect((await owner.get('/api/conversations?status=archived').set('X-Customer-Id', c(0))).status).toBe(400);
    expect((await owner.get('/api/conversations?inboxId=nope').set('X-Customer-Id', c(0))).status).toBe(400);
    // A cursor whose time was edited is refused, not cast into a server error.
    const edited = Buffer.from(JSON.stringify({ after: newId('conv'), v: 'not a time' }), 'utf8').toString('base64url');
    const res = await owner.get(`/api/conversations?cursor=${edited}`).set('X-Customer-Id', c(0));
    expect([res.status, res.body.error?.code]).toEqual([400, 'invalid_cursor']);
  });
});

describe('GET /api/conversations/:id', () => {
  it('answers the conversation and its messages, newest first, in pages', async () => {
    const res = await owner.get(`/api/conversations/${seeds[0]!.conversation}`).set('X-Customer-Id', c(0));
    expect(res.status).toBe(200);
    expect(res.body.conversation).toMatchObject({ id: seeds[0]!.conversation, subject: 'Pricing for Acme', unreadCount: 1 });
    expect(res.body.messages.data.map((m: { direction: string }) => m.direction)).toEqual(['inbound', 'outbound']);
    expect(res.body.messages.data[1]).toMatchObject({ origin: 'sequence', step: 1, status: 'sending', campaignId: seeds[0]!.campaign });
    const first = await owner.get(`/api/conversations/${seeds[0]!.conversation}?limit=1`).set('X-Customer-Id', c(0));
    const second = await owner.get(`/api/conversations/${seeds[0]!.conversation}?limit=1&cursor=${first.body.messages.nextCursor}`).set('X-Customer-Id', c(0));
    expect(second.body.messages.data[0].direction).toBe('outbound');
    expect(second.body.messages.nextCursor).toBeNull();
  });

  it("answers 404 for another customer's conversation", async () => {
    expect((await owner.get(`/api/conversations/${seeds[2]!.conversation}`).set('X-Customer-Id', c(0))).status).toBe(404);
    expect((await restricted.get(`/api/conversations/${seeds[2]!.conversation}`).set('X-Customer-Id', c(0))).status).toBe(404);
  });
});

describe('PATCH /api/conversations/:id', () => {
  const patch = (agent: Agent, s: Seeded, body: object) => agent.patch(`/api/conversations/${s.conversation}`).set('X-Customer-Id', s.customer).send(body);

  it('closes, snoozes, reopens, assigns and marks read', async () => {
    const s = seeds[0]!;
    expect((await patch(owner, s, { status: 'closed' })).body).toMatchObject({ status: 'closed', snoozedUntil: null });
    const until = new Date(Date.now() + 3_600_000).toISOString();
    const snoozed = await patch(owner, s, { status: 'snoozed', snoozedUntil: until });
    expect(snoozed.body).toMatchObject({ status: 'snoozed' });
    expect(new Date(snoozed.body.snoozedUntil).toISOString()).toBe(until);
    expect(await emails(owner, c(0), '?status=snoozed')).toEqual([s.email]);
    expect((await patch(owner, s, { status: 'open' })).body).toMatchObject({ status: 'open', snoozedUntil: null });

    const user = await createUser(ds);
    const member = await addMember(ds, t, user, 'member', c(0));
    expect((await patch(owner, s, { assigneeMemberId: member.id })).body.assigneeMemberId).toBe(member.id);
    expect((await list(owner, c(0), `?assignee=${member.id}`)).data.map((r) => r.id)).toEqual([s.conversation]);
    expect((await patch(owner, s, { assigneeMemberId: null })).body.assigneeMemberId).toBeNull();

    expect((await patch(restricted, s, { read: true })).body.unreadCount).toBe(0);
  });

  it('refuses an assignee outside the team or the customer, a snooze in the past, and an empty change, writing nothing', async () => {
    const s = seeds[1]!;
    const before = (await owner.get(`/api/conversations/${s.conversation}`).set('X-Customer-Id', c(0))).body.conversation;
    const stranger = await addMember(ds, other, await createUser(ds), 'member');
    const elsewhere = await addMember(ds, t, await createUser(ds), 'member', c(1));
    for (const body of [
      { assigneeMemberId: stranger.id, status: 'closed' },
      { assigneeMemberId: elsewhere.id },
      { status: 'snoozed', snoozedUntil: new Date(Date.now() - 1000).toISOString() },
      { status: 'snoozed' },
      { status: 'closed', snoozedUntil: new Date(Date.now() + 1000).toISOString() },
      { read: false },
      {},
    ]) {
      const res = await patch(owner, s, body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
    }
    const after = (await owner.get(`/api/conversations/${s.conversation}`).set('X-Customer-Id', c(0))).body.conversation;
    expect(after).toEqual(before);
  });

  it('takes messages.send: a viewer reads but does not change', async () => {
    expect((await viewer.get(`/api/conversations/${seeds[1]!.conversation}`).set('X-Customer-Id', c(0))).status).toBe(200);
    expect((await patch(viewer, seeds[1]!, { status: 'closed' })).status).toBe(403);
  });
});

describe('inbound mail in the thread, and its attachments', () => {
  /** A mail from the seeded lead to its inbox, parsed as the mailbox reader parses it, stored in the lead's conversation. */
  async function inbound(s: Seeded, tag: string) {
    const raw = [
      `From: ${s.email}`,
      `To: ${s.inbox}@sender.example`,
      `Subject: Re: ${tag}`,
      `Message-ID: <${tag}-${s.conversation}@lead.example>`,
      'Auto-Submitted: auto-replied',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="MIX"',
      '',
      '--MIX',
      'Content-Type: text/html; charset=utf-8',
      '',
      '<p onclick="x()">Away <img src="https://tracker.example/p.png"></p>',
      '--MIX',
      "Content-Type: application/pdf; name*=UTF-8''d%C3%A9ck.pdf",
      "Content-Disposition: attachment; filename*=UTF-8''d%C3%A9ck.pdf",
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from(`%PDF ${tag}`).toString('base64'),
      '--MIX',
      'Content-Type: video/mp4; name="film.mp4"',
      'Content-Disposition: attachment; filename="film.mp4"',
      '',
      'pretend film',
      '--MIX--',
      '',
    ].join('\r\n');
    const parsed = await parseMail(raw);
    // The film stands for one over the size limit: its metadata only, as the parser leaves it.
    const [deck, film] = parsed.attachments;
    const mail = {
      ...parsed,
      attachments: [deck!, { ...film!, size: MAX_ATTACHMENT_BYTES + 1, content: undefined }],
      uid: 1,
      size: raw.length,
      truncated: false,
    };
    const result = await withTenant(ds, t.tenant.id, (m) => storeInboundMail(m, s.inbox, [mail]));
    expect(result.stored).toBe(1);
    const res = await owner.get(`/api/conversations/${s.conversation}`).set('X-Customer-Id', s.customer);
    expect(res.status).toBe(200);
    return res.body.messages.data[0] as { id: string; attachments: { id: string; filename: string; downloadable: boolean }[] };
  }

  const download = (agent: Agent, customer: string, conversation: string, attachment: string) =>
    agent
      .get(`/api/conversations/${conversation}/attachments/${attachment}`)
      .set('X-Customer-Id', customer)
      .buffer(true)
      .parse((res, done) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => done(null, Buffer.concat(chunks)));
      });

  it('shows the sender, the raw HTML, the auto-reply flag and the attachments, and downloads kept bytes only', async () => {
    const message = await inbound(seeds[0]!, 'away');
    expect(message).toMatchObject({
      direction: 'inbound',
      fromEmail: 'ann@acme.example',
      html: '<p onclick="x()">Away <img src="https://tracker.example/p.png"></p>',
      autoReply: true,
      attachments: [
        { filename: 'déck.pdf', contentType: 'application/pdf', size: '%PDF away'.length, downloadable: true },
        { filename: 'film.mp4', contentType: 'video/mp4', size: MAX_ATTACHMENT_BYTES + 1, downloadable: false },
      ],
    });
    const [deck, film] = message.attachments as unknown as [{ id: string }, { id: string }];
    const got = await download(owner, c(0), seeds[0]!.conversation, deck.id);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(Buffer.from('%PDF away'));
    expect(got.headers['content-type']).toBe('application/octet-stream');
    expect(got.headers['x-content-type-options']).toBe('nosniff');
    expect(got.headers['content-disposition']).toBe(`attachment; filename="d_ck.pdf"; filename*=UTF-8''d%C3%A9ck.pdf`);

    const notKept = await owner.get(`/api/conversations/${seeds[0]!.conversation}/attachments/${film.id}`).set('X-Customer-Id', c(0));
    expect(notKept.status).toBe(404);
    expect(notKept.body.error.message).toMatch(/not kept.*10 MiB/);
    // An attachment of another conversation, or none at all, is not in this one.
    expect((await owner.get(`/api/conversations/${seeds[1]!.conversation}/attachments/${deck.id}`).set('X-Customer-Id', c(0))).status).toBe(404);
    expect((await owner.get(`/api/conversations/${seeds[0]!.conversation}/attachments/${newId('att')}`).set('X-Customer-Id', c(0))).status).toBe(404);
  });

  it("a member restricted to one customer neither downloads another customer's attachment nor finds its conversation through q", async () => {
    const secret = await inbound(seeds[2]!, 'secret');
    const att = secret.attachments[0]!.id;
    const own = seeds[0]!.conversation;
    for (const [customer, conversation] of [
      [c(0), seeds[2]!.conversation],
      [c(1), seeds[2]!.conversation],
      [c(0), own],
    ] as const) {
      const res = await restricted.get(`/api/conversations/${conversation}/attachments/${att}`).set('X-Customer-Id', customer);
      expect(res.status).toBe(404);
      expect(JSON.stringify(res.body)).not.toContain('PDF');
    }
    expect(await emails(restricted, c(0), '?q=zed')).toEqual([]);
    expect(await emails(restricted, c(0), '?q=secret')).toEqual([]);
    // The owner, in that customer, does download it.
    expect((await download(owner, c(1), seeds[2]!.conversation, att)).body).toEqual(Buffer.from('%PDF secret'));
  });
});
