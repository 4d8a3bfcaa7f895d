// Stats = stream: a campaign recorded before the event stream existed (its
// rows written directly, then the backfill migration run over them, as at
// deployment) answers the same numbers in its stats, in its daily series
// (days of the campaign's own time zone) and in plain counts over
// analytics_events — sends, an uncertain send, a failed one, replies (one
// lead twice), a bounce and an unsubscribe. Opens count only while the
// campaign tracks, and never a bot's. The dashboard is the customer's own. A
// campaign recorded now, through the writers the product runs, agrees the
// same way with no backfill.
import { Client, Connection } from '@temporalio/client';
import type Koa from 'koa';
import { type DataSource } from 'typeorm';
import { type AppState } from './state';
import { insertEvents } from '../db/analyticsEvents';
import { recordReplyOrBounce } from '../db/emailEvents';
import { insertSendingMessage, markMessageUncertain, type OutboundMessage } from '../db/messages';
import { recordSendAccepted } from '../db/sends';
import { suppressAddressAndStop } from '../db/suppressions';
import { newId } from '../db/ids';
import { withTenant } from '../db/tenantContext';
import { AnalyticsBackfill1730000017400 } from '../migrations/1730000017400-analytics-backfill';
import { testApp, type Agent } from '../test/helpers/api';
import { createTestDatabase, openDataSource, type TestDatabase } from '../test/helpers/database';
import { createTenant, type TenantFixture } from '../test/helpers/fixtures';
import { signedInMembers } from '../test/helpers/suite';
import { temporalAddress } from '../test/helpers/temporal';

const TZ = 'America/New_York';
const DAY = 86_400_000;
let db: TestDatabase;
let ds: DataSource;
let ownerDs: DataSource;
let app: Koa<AppState>;
let t: TenantFixture;
let other: TenantFixture;
let owner: Agent;
let otherOwner: Agent;
let campaign: string;
let otherCampaign: string;
/** Midnight UTC four days ago: the seeded facts fall on the days after it. */
const base = Math.floor(Date.now() / DAY) * DAY - 4 * DAY;
const at = (day: number, hour: number) => new Date(base + day * DAY + hour * 3_600_000);
const c0 = () => t.customers[0]!.id;

interface Enr {
  lead: string;
  enrollment: string;
}

/** A campaign of `customer` in New York time with its rows as the product wrote them before the stream. */
async function seedCampaign(tenant: TenantFixture, customer: string): Promise<string> {
  return withTenant(ds, tenant.tenant.id, async (m) => {
    const inbox = newId('inb');
    await m.query(
      `INSERT INTO inboxes (tenant_id, id, customer_id, provider, from_email, daily_cap, smtp_host, smtp_port, smtp_secure)
       VALUES (current_setting('app.tenant_id')::uuid, $1, $2, 'smtp', $3, 50, 'localhost', 25, false)`,
      [inbox, customer, `${inbox}@sender.example`],
    );
    const cmp = newId('cmp');
    await m.query(
      `INSERT INTO campaigns (tenant_id, id, customer_id, name, status, timezone, days, window_start, window_end, created_at)
       VALUES (current_setting('app.tenant_id')::uuid, $1, $2, 'Before the stream', 'active', $3, '{1,2,3,4,5,6,7}', '00:00', '24:00', $4)`,
      [cmp, customer, TZ, at(0, 0)],
    );
    const enroll = async (status: string, updatedAt = at(0, 12)): Promise<Enr> => {
      const lead = newId('lead');
      const leadStatus = ['replied', 'bounced', 'unsubscribed'].includes(status) ? status : 'active';
      await m.query(
        `INSERT INTO leads (tenant_id, id, customer_id, email, status, source, created_at, updated_at)
         VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, $4, 'api', $5, $6)`,
        [lead, customer, `${lead}@lead.example`, leadStatus, at(0, 12), updatedAt],
      );
      const enrollment = newId('enr');
      await m.query(
        `INSERT INTO enrollments (tenant_id, id, customer_id, campaign_id, lead_id, inbox_id, status, created_at, updated_at)
         VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, $4, $5, $6, $7, $8)`,
        [enrollment, customer, cmp, lead, inbox, status, at(0, 12), updatedAt],
      );
      return { lead, enrollment };
    };
    const message = async (e: Enr, step: number | null, status: string, time: Date, opens = 0) => {
      const id = newId('msg');
      await m.query(
        `INSERT INTO messages (tenant_id, id, customer_id, campaign_id, enrollment_id, lead_id, inbox_id, direction, step, status, message_id,
                               sent_at, opens, opened_at, created_at, updated_at)
         VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, $4, $5, NULL, $6, $7, $8, $9, $10, $11, $12, $13, $13)`,
        [
          id,
          customer,
          cmp,
          e.enrollment,
          e.lead,
          step === null ? 'inbound' : 'outbound',
          step,
          status,
          `<${id}@x.example>`,
          ['accepted', 'uncertain'].includes(status) ? time : null,
          opens,
          opens > 0 ? time : null,
          time,
        ],
      );
      return id;
    };
    // Replied after its second step.
    const e1 = await enroll('replied', at(3, 12));
    await message(e1, 1, 'accepted', at(1, 15), 2);
    await message(e1, 2, 'accepted', at(2, 15));
    await message(e1, null, 'received', at(3, 12));
    // Replied to its first step twice; the first reply at 03:00 UTC is the evening before in New York.
    const e2 = await enroll('replied', at(2, 3));
    await message(e2, 1, 'accepted', at(1, 16));
    await message(e2, null, 'received', at(2, 3));
    await message(e2, null, 'received', at(2, 10));
    // Its outcome unknown; a send that failed.
    await message(await enroll('active'), 1, 'uncertain', at(1, 17));
    await message(await enroll('failed'), 1, 'failed', at(1, 18));
    // Bounced; unsubscribed.
    const bounced = await enroll('bounced', at(2, 16));
    await message(bounced, 1, 'accepted', at(2, 15));
    // Its delivery report, stored by the mailbox reader as inbound mail: no reply.
    await message(bounced, null, 'received', at(2, 16));
    await message(await enroll('unsubscribed', at(3, 9)), 1, 'accepted', at(2, 15));
    return cmp;
  });
}

async function backfill(): Promise<void> {
  const qr = ownerDs.createQueryRunner();
  try {
    await new AnalyticsBackfill1730000017400().up(qr);
  } finally {
    await qr.release();
  }
}

/** Plain counts over the campaign's events. */
async function streamCounts(cmp: string) {
  const [row] = (await withTenant(ds, t.tenant.id, (m) =>
    m.query(
      `SELECT count(DISTINCT message_id) FILTER (WHERE type = 'message.sent')::int AS sent,
              count(DISTINCT message_id) FILTER (WHERE type = 'message.uncertain')::int AS uncertain,
              count(DISTINCT message_id) FILTER (WHERE type = 'message.failed')::int AS failed,
              count(DISTINCT enrollment_id) FILTER (WHERE type = 'message.replied')::int AS replied,
              count(*) FILTER (WHERE type = 'message.replied')::int AS replies,
              count(DISTINCT message_id) FILTER (WHERE type = 'message.bounced')::int AS bounced,
              count(DISTINCT enrollment_id) FILTER (WHERE type = 'lead.unsubscribed')::int AS unsubscribed,
              count(*) FILTER (WHERE type = 'message.opened')::int AS opened,
              count(*)::int AS events
         FROM analytics_events WHERE campaign_id = $1`,
      [cmp],
    ),
  )) as Record<string, number>[];
  return row!;
}

const nyDay = (d: Date) => new Intl.DateTimeFormat('en-CA', { timeZone: TZ }).format(d);

beforeAll(async () => {
  db = await createTestDatabase('analytics_stats');
  ds = await openDataSource(db.appUrl);
  ownerDs = await openDataSource(db.ownerUrl, 'tenantflow-analytics-owner');
  app = testApp(ds, { client: new Client({ connection: Connection.lazy({ address: temporalAddress() }) }) });
  t = await createTenant(ds, { customers: 2 });
  other = await createTenant(ds, { customers: 1 });
  [owner] = await signedInMembers(ds, app, t, ['owner']);
  [otherOwner] = await signedInMembers(ds, app, other, ['owner']);
  campaign = await seedCampaign(t, c0());
  otherCampaign = await seedCampaign(other, other.customers[0]!.id);
  await backfill();
});

afterAll(async () => {
  await ds?.destroy();
  await ownerDs?.destroy();
  await db?.drop();
});

type Stats = Record<string, number> & { steps: Record<string, number>[]; tracking: boolean };
type Series = {
  timezone: string;
  days: { day: string; sent: number; replied: number; bounced: number; opened: number | null }[];
  steps: { step: number; sent: number; replied: number; replyRate: number }[];
  totals: Record<string, number | null>;
};
const stats = async (cmp = campaign) => {
  const res = await owner.get(`/api/campaigns/${cmp}/stats`).set('X-Customer-Id', c0());
  expect(res.status).toBe(200);
  return res.body as Stats;
};
const series = async (cmp = campaign, days = 10) => {
  const res = await owner.get(`/api/campaigns/${cmp}/analytics?days=${days}`).set('X-Customer-Id', c0());
  expect(res.status).toBe(200);
  return res.body as Series;
};
const sum = (s: Series, k: 'sent' | 'replied' | 'bounced') => s.days.reduce((n, d) => n + d[k], 0);

describe('a campaign from before the stream, backfilled', () => {
  it('answers the same numbers in its stats, its daily series and the events', async () => {
    const s = await stats();
    const ev = await streamCounts(campaign);
    expect(s).toMatchObject({ sent: 5, uncertain: 1, replied: 2, bounced: 1, unsubscribed: 1, opened: 0, clicked: 0, tracking: false, enrolled: 6 });
    expect(ev).toMatchObject({ sent: s.sent, uncertain: s.uncertain, replied: s.replied, bounced: s.bounced, unsubscribed: s.unsubscribed, replies: 3 });
    // A reply and a bounce count against the last step sent before them.
    expect(s.steps).toEqual([
      { step: 1, sent: 4, uncertain: 1, errors: 1, replied: 1, bounced: 1, opened: 0, clicked: 0, of: 6 },
      { step: 2, sent: 1, uncertain: 0, errors: 0, replied: 1, bounced: 0, opened: 0, clicked: 0, of: 6 },
    ]);

    const d = await series();
    expect(d.timezone).toBe(TZ);
    expect(d.days).toHaveLength(10);
    expect({ sent: sum(d, 'sent'), replied: sum(d, 'replied'), bounced: sum(d, 'bounced') }).toEqual({ sent: s.sent, replied: s.replied, bounced: s.bounced });
    expect(d.steps).toEqual([
      { step: 1, sent: 4, replied: 1, bounced: 1, replyRate: 0.25, opened: null, clicked: null },
      { step: 2, sent: 1, replied: 1, bounced: 0, replyRate: 1, opened: null, clicked: null },
    ]);
    expect(d.totals).toMatchObject({ sent: 5, uncertain: 1, replied: 2, bounced: 1, unsubscribed: 1, replyRate: 0.4, opened: null });
    // Days are New York's: the reply at 03:00 UTC is counted the evening before.
    const byDay = new Map(d.days.map((x) => [x.day, x]));
    expect(byDay.get(nyDay(at(2, 3)))!.replied).toBe(1);
    expect(nyDay(at(2, 3))).toBe(nyDay(at(1, 16)));
    expect(byDay.get(nyDay(at(1, 15)))!.sent).toBe(2);
    expect(byDay.get(nyDay(at(2, 15)))).toMatchObject({ sent: 3, bounced: 1 });
  });

  it('writes nothing new when it runs again', async () => {
    const before = await streamCounts(campaign);
    await backfill();
    expect(await streamCounts(campaign)).toEqual(before);
  });

  it('counts human opens only while the campaign tracks them', async () => {
    await withTenant(ds, t.tenant.id, async (m) => {
      const [msg] = (await m.query('SELECT id, enrollment_id, lead_id, step FROM messages WHERE campaign_id = $1 AND opens > 0', [campaign])) as {
        id: string;
        enrollment_id: string;
        lead_id: string;
        step: number;
      }[];
      // A scanner's prefetch of another message: stored, flagged, never counted.
      const [second] = (await m.query('SELECT id FROM messages WHERE campaign_id = $1 AND step = 2', [campaign])) as { id: string }[];
      await insertEvents(m, [
        {
          type: 'message.opened',
          customerId: c0(),
          campaignId: campaign,
          step: 2,
          messageId: second!.id,
          properties: { source: 'pixel', bot: true },
          dedupeKey: `message.opened:${second!.id}:bot`,
        },
        // The same person opening again is still one opened message.
        {
          type: 'message.opened',
          customerId: c0(),
          campaignId: campaign,
          step: msg!.step,
          messageId: msg!.id,
          properties: { source: 'pixel' },
          dedupeKey: `message.opened:${msg!.id}:again`,
        },
      ]);
    });
    expect((await stats()).opened).toBe(0);
    await withTenant(ds, t.tenant.id, (m) => m.query('UPDATE campaigns SET tracking = true WHERE id = $1', [campaign]));
    const s = await stats();
    expect(s).toMatchObject({ opened: 1, tracking: true });
    expect(s.steps.map((x) => x.opened)).toEqual([1, 0]);
    const d = await series();
    expect(d.totals.opened).toBe(1);
    expect(d.days.reduce((n, x) => n + (x.opened ?? 0), 0)).toBe(1);
    await withTenant(ds, t.tenant.id, (m) => m.query('UPDATE campaigns SET tracking = false WHERE id = $1', [campaign]));
  });
});

describe("the customer's dashboard", () => {
  it('counts its own events of the range, in the time zone asked for', async () => {
    const from = nyDay(at(0, 12));
    const to = nyDay(at(4, 12));
    const res = await owner.get(`/api/analytics/summary?from=${from}&to=${to}&tz=${encodeURIComponent(TZ)}`).set('X-Customer-Id', c0());
    expect(res.status).toBe(200);
    const body = res.body as { days: unknown[]; totals: Record<string, number>; cta: unknown[] };
    expect(body.days).toHaveLength(5);
    // Every reply is an event: three, from two leads.
    expect(body.totals).toMatchObject({ sent: 5, replied: 3, bounced: 1, unsubscribed: 1, leads: 6, cta: 0 });
    const empty = await owner.get(`/api/analytics/summary?from=${from}&to=${to}`).set('X-Customer-Id', t.customers[1]!.id);
    expect((empty.body as { totals: Record<string, number> }).totals).toMatchObject({ sent: 0, leads: 0 });
  });

  it('shows website events by surface', async () => {
    await withTenant(ds, t.tenant.id, (m) =>
      insertEvents(m, [
        { type: 'cta.signup', customerId: c0(), surface: 'pricing', occurredAt: at(3, 12), dedupeKey: 'cta:test-1' },
        { type: 'cta.signup', customerId: c0(), surface: 'pricing', occurredAt: at(3, 13), dedupeKey: 'cta:test-2' },
        { type: 'cta.demo', customerId: c0(), surface: 'home', occurredAt: at(3, 13), dedupeKey: 'cta:test-3' },
        { type: 'cta.demo', customerId: t.customers[1]!.id, surface: 'home', occurredAt: at(3, 13), dedupeKey: 'cta:test-4' },
      ]),
    );
    const res = await owner.get(`/api/analytics/summary?from=${nyDay(at(0, 12))}`).set('X-Customer-Id', c0());
    expect(res.status).toBe(200);
    expect((res.body as { cta: unknown[] }).cta).toEqual([
      { surface: 'pricing', type: 'cta.signup', count: 2 },
      { surface: 'home', type: 'cta.demo', count: 1 },
    ]);
  });

  it('refuses a range it cannot answer, plainly', async () => {
    for (const q of ['from=2026-02-01&to=2026-01-01', 'from=2024-01-01&to=2026-01-01', 'from=2026-02-30', 'tz=Mars/Olympus', 'tz=%2B01:00']) {
      const res = await owner.get(`/api/analytics/summary?${q}`).set('X-Customer-Id', c0());
      expect(res.status).toBe(400);
    }
  });

  it("answers another tenant's campaign as not found", async () => {
    expect((await owner.get(`/api/campaigns/${otherCampaign}/analytics`).set('X-Customer-Id', c0())).status).toBe(404);
    const res = await otherOwner.get(`/api/campaigns/${otherCampaign}/analytics`).set('X-Customer-Id', other.customers[0]!.id);
    expect((res.body as Series).totals).toMatchObject({ sent: 5 });
  });
});

/**
 * A campaign whose facts are recorded now by the product's own writers (the
 * statements the send, the webhooks and the unsubscribe run): each writes its
 * event with its fact, and no backfill runs.
 */
async function liveCampaign(): Promise<string> {
  return withTenant(ds, t.tenant.id, async (m) => {
    const customer = c0();
    const inbox = newId('inb');
    await m.query(
      `INSERT INTO inboxes (tenant_id, id, customer_id, provider, from_email, daily_cap, smtp_host, smtp_port, smtp_secure)
       VALUES (current_setting('app.tenant_id')::uuid, $1, $2, 'smtp', $3, 50, 'localhost', 25, false)`,
      [inbox, customer, `${inbox}@sender.example`],
    );
    const cmp = newId('cmp');
    await m.query(
      `INSERT INTO campaigns (tenant_id, id, customer_id, name, status, timezone, days, window_start, window_end)
       VALUES (current_setting('app.tenant_id')::uuid, $1, $2, 'Live', 'active', $3, '{1,2,3,4,5,6,7}', '00:00', '24:00')`,
      [cmp, customer, TZ],
    );
    const send = async (outcome: 'accepted' | 'uncertain') => {
      const lead = newId('lead');
      const email = `${lead}@lead.example`;
      await m.query("INSERT INTO leads (tenant_id, id, customer_id, email, source) VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, 'api')", [
        lead,
        customer,
        email,
      ]);
      const enrollment = newId('enr');
      await m.query(
        `INSERT INTO enrollments (tenant_id, id, customer_id, campaign_id, lead_id, inbox_id, status)
         VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, $4, $5, 'active')`,
        [enrollment, customer, cmp, lead, inbox],
      );
      const msg: OutboundMessage = {
        id: newId('msg'),
        customerId: customer,
        campaignId: cmp,
        enrollmentId: enrollment,
        leadId: lead,
        inboxId: inbox,
        step: 1,
        messageId: `<${newId('msg')}@sender.example>`,
        scheduledAt: new Date(),
      };
      await insertSendingMessage(m, msg, { subject: 'Hello', body: 'Hi', unsubscribeToken: newId('tok') });
      if (outcome === 'accepted')
        await recordSendAccepted(m, { messageRowId: msg.id, providerMessageId: 'p', sentAt: new Date(), enrollmentId: enrollment, step: 1 });
      else await markMessageUncertain(m, msg.id, 'connection lost', new Date());
      const row = { customer_id: customer, campaign_id: cmp, enrollment_id: enrollment, lead_id: lead, inbox_id: inbox, id: msg.id };
      return { row, email };
    };
    const replied = await send('accepted');
    await recordReplyOrBounce(m, t.tenant.id, replied.row, {
      inboundId: newId('msg'),
      inboundMessageId: `<reply-${newId('msg')}@lead.example>`,
      subject: 'Re: Hello',
      body: 'Yes',
      outcome: 'replied',
      stops: true,
    });
    const bounced = await send('accepted');
    await recordReplyOrBounce(m, t.tenant.id, bounced.row, {
      inboundId: newId('msg'),
      inboundMessageId: `<bounce-${newId('msg')}@lead.example>`,
      subject: '',
      body: '',
      outcome: 'bounced',
      stops: true,
    });
    const unsubscribed = await send('accepted');
    await suppressAddressAndStop(m, unsubscribed.email, 'unsubscribed');
    await send('accepted');
    await send('uncertain');
    return cmp;
  });
}

describe('a campaign recorded live, each fact with its event', () => {
  it('answers the same numbers in its stats, its daily series and the events', async () => {
    const cmp = await liveCampaign();
    const s = await stats(cmp);
    const ev = await streamCounts(cmp);
    expect(s).toMatchObject({ sent: 4, uncertain: 1, replied: 1, bounced: 1, unsubscribed: 1, enrolled: 5 });
    expect(ev).toMatchObject({ sent: s.sent, uncertain: s.uncertain, replied: s.replied, bounced: s.bounced, unsubscribed: s.unsubscribed, replies: 1 });
    const d = await series(cmp, 3);
    expect({ sent: sum(d, 'sent'), replied: sum(d, 'replied'), bounced: sum(d, 'bounced') }).toEqual({ sent: 4, replied: 1, bounced: 1 });
    expect(d.totals).toMatchObject({ sent: 4, uncertain: 1, replied: 1, bounced: 1, unsubscribed: 1 });
    expect(d.days.at(-1)!.day).toBe(nyDay(new Date()));
    expect(d.days.at(-1)).toMatchObject({ sent: 4, replied: 1, bounced: 1 });
  });
});
