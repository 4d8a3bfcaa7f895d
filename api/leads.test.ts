// GET /api/leads/:id and its expansions: `activity` tells the lead's story
// oldest first from its enrollments and messages (enrolled, the send, the
// reply, the sequence's end, the lead's status), `conversations` lists its
// threads; an unknown expansion is a 400, and without `expand` the answer is
// the plain lead. The thread is seeded through the send path's own records.
import type Koa from 'koa';
import { type DataSource } from 'typeorm';
import { type AppState } from './state';
import { recordReplyOrBounce } from '../db/emailEvents';
import { newId } from '../db/ids';
import { insertSendingMessage } from '../db/messages';
import { withTenant } from '../db/tenantContext';
import { testApp, type Agent } from '../test/helpers/api';
import { createTenant, type TenantFixture } from '../test/helpers/fixtures';
import { signedInMembers, useSuiteDatabase } from '../test/helpers/suite';

const suite = useSuiteDatabase('leads_api');
let ds: DataSource;
let app: Koa<AppState>;
let t: TenantFixture;
let owner: Agent;
let seeded: { lead: string; campaign: string; enrollment: string; sent: string; reply: string; conversation: string };

const customer = () => t.customers[0]!.id;

beforeAll(async () => {
  ds = suite.ds;
  app = testApp(ds);
  t = await createTenant(ds, { customers: 1 });
  [owner] = await signedInMembers(ds, app, t, ['owner']);
  const ids = { inbox: newId('inb'), campaign: newId('cmp'), lead: newId('lead'), enrollment: newId('enr'), sent: newId('msg'), reply: newId('msg') };
  // Each act in its own transaction, as they happen: the times then tell the order.
  await withTenant(ds, t.tenant.id, async (m) => {
    await m.query(
      `INSERT INTO inboxes (tenant_id, id, customer_id, provider, from_email, daily_cap, smtp_host, smtp_port, smtp_secure)
       VALUES (current_setting('app.tenant_id')::uuid, $1, $2, 'smtp', 'sender@sender.example', 50, 'localhost', 25, false)`,
      [ids.inbox, customer()],
    );
    await m.query(
      `INSERT INTO campaigns (tenant_id, id, customer_id, name, status, timezone, days, window_start, window_end)
       VALUES (current_setting('app.tenant_id')::uuid, $1, $2, 'Spring outreach', 'active', 'UTC', '{1,2,3,4,5}', '09:00', '17:00')`,
      [ids.campaign, customer()],
    );
    await m.query(
      "INSERT INTO leads (tenant_id, id, customer_id, email, first_name, source) VALUES (current_setting('app.tenant_id')::uuid, $1, $2, 'tia@lead.example', 'Tia', 'api')",
      [ids.lead, customer()],
    );
    await m.query(
      "INSERT INTO enrollments (tenant_id, id, customer_id, campaign_id, lead_id, inbox_id, status) VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, $4, $5, 'active')",
      [ids.enrollment, customer(), ids.campaign, ids.lead, ids.inbox],
    );
  });
  await withTenant(ds, t.tenant.id, async (m) => {
    await insertSendingMessage(
      m,
      {
        id: ids.sent,
        customerId: customer(),
        campaignId: ids.campaign,
        enrollmentId: ids.enrollment,
        leadId: ids.lead,
        inboxId: ids.inbox,
        step: 1,
        messageId: `<${ids.sent}@sender.example>`,
        scheduledAt: new Date(),
      },
      { subject: 'Spring', body: 'Hello Tia', unsubscribeToken: `u_${ids.sent}` },
    );
    await m.query("UPDATE messages SET status = 'accepted', sent_at = clock_timestamp() WHERE id = $1", [ids.sent]);
  });
  await withTenant(ds, t.tenant.id, (m) =>
    recordReplyOrBounce(
      m,
      t.tenant.id,
      { customer_id: customer(), campaign_id: ids.campaign, enrollment_id: ids.enrollment, lead_id: ids.lead, inbox_id: ids.inbox },
      { inboundId: ids.reply, inboundMessageId: `<${ids.reply}@lead.example>`, subject: 'Re: Spring', body: 'Yes please', outcome: 'replied', stops: true },
    ),
  );
  const [row] = await withTenant(
    ds,
    t.tenant.id,
    (m) => m.query('SELECT conversation_id FROM messages WHERE id = $1', [ids.sent]) as Promise<{ conversation_id: string }[]>,
  );
  seeded = { ...ids, conversation: row!.conversation_id };
});

const get = (query: string) => owner.get(`/api/leads/${seeded.lead}${query}`).set('X-Customer-Id', customer());

describe('GET /api/leads/:id?expand=', () => {
  it("tells the lead's timeline oldest first: enrolled, the send, the reply, the sequence's end, the lead's status", async () => {
    const res = await get('?expand=activity');
    expect(res.status).toBe(200);
    type Item = { at: string; kind: string; status: string | null; step: number | null; messageId: string | null; campaignName: string | null };
    const activity = res.body.activity as Item[];
    expect(activity.map((i) => [i.kind, i.status])).toEqual([
      ['enrolled', null],
      ['sent', 'accepted'],
      ['received', 'received'],
      ['enrollment_ended', 'replied'],
      ['lead_status', 'replied'],
    ]);
    expect(activity[0]).toMatchObject({ campaignName: 'Spring outreach' });
    expect(activity[1]).toMatchObject({ step: 1, messageId: seeded.sent, campaignName: 'Spring outreach' });
    expect(activity[2]).toMatchObject({ messageId: seeded.reply, conversationId: seeded.conversation, autoReply: false });
    const times = activity.map((i) => Date.parse(i.at));
    expect([...times].sort((x, y) => x - y)).toEqual(times);
    expect(res.body.conversations).toBeUndefined();
  });

  it("lists the lead's conversations, and gives both expansions at once", async () => {
    const res = await get('?expand=activity,conversations');
    expect(res.status).toBe(200);
    expect(res.body.activity).toHaveLength(5);
    expect(res.body.conversations).toEqual([
      expect.objectContaining({ id: seeded.conversation, inboxEmail: 'sender@sender.example', status: 'open', unreadCount: 1, campaignIds: [seeded.campaign] }),
    ]);
  });

  it('answers the plain lead without expand, and refuses an unknown expansion with a 400', async () => {
    const plain = await get('');
    expect(plain.status).toBe(200);
    expect(plain.body).toMatchObject({ id: seeded.lead, status: 'replied' });
    expect(plain.body.activity).toBeUndefined();
    expect(plain.body.conversations).toBeUndefined();
    const bad = await get('?expand=activity,secrets');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('cannot expand secrets');
    expect((await get('?expand=activity&extra=1')).status).toBe(400);
  });

  it('gives the expansions only to a caller who may read conversations: they show the replies', async () => {
    // A custom role that reads leads and campaigns but not conversations.
    const role = await owner.post('/api/roles').send({ name: 'Lead reader', permissions: ['customers.read', 'campaigns.read'] });
    expect(role.status).toBe(201);
    t.roles.leadReader = role.body.id as string;
    const [viewer] = await signedInMembers(ds, app, t, ['leadReader']);
    const as = (q: string) => viewer!.get(`/api/leads/${seeded.lead}${q}`).set('X-Customer-Id', customer());
    expect((await as('')).status).toBe(200);
    for (const q of ['?expand=activity', '?expand=conversations']) {
      const res = await as(q);
      expect(res.status).toBe(403);
      expect(JSON.stringify(res.body)).toContain('conversations.read');
    }
  });
});
