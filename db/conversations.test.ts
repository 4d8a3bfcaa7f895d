// The conversations model: every message already sent joins its lead's
// conversation when the migration runs, existing system roles get the new
// permissions, a sequence send's record finds or makes the conversation of
// its (inbox, lead), and a reply counts as unread and reopens it.
import { type DataSource } from 'typeorm';
import { recordReplyOrBounce } from './emailEvents';
import { newId } from './ids';
import { insertSendingMessage, recordRenderError, type OutboundMessage } from './messages';
import { findConversation, updateConversation } from './conversations';
import { withTenant } from './tenantContext';
import { ConversationPermissions1730000016100 } from '../migrations/1730000016100-conversation-permissions';
import { Conversations1730000016000 } from '../migrations/1730000016000-conversations';
import { createTestDatabase, openDataSource, type TestDatabase } from '../test/helpers/database';
import { createTenant, type TenantFixture } from '../test/helpers/fixtures';

let db: TestDatabase;
let owner: DataSource;
let app: DataSource;
let t: TenantFixture;

beforeAll(async () => {
  db = await createTestDatabase('conversations');
  owner = await openDataSource(db.ownerUrl, 'tenantflow-conversations-owner');
  app = await openDataSource(db.appUrl);
  t = await createTenant(app, { customers: 1 });
});

afterAll(async () => {
  await app?.destroy();
  await owner?.destroy();
  await db?.drop();
});

interface Enrolled {
  inbox: string;
  campaign: string;
  lead: string;
  enrollment: string;
}

/** An inbox, a campaign and `n` leads enrolled in it. */
async function enrolled(n: number): Promise<Enrolled[]> {
  const customer = t.customers[0]!.id;
  return withTenant(app, t.tenant.id, async (m) => {
    const inbox = newId('inb');
    await m.query(
      "INSERT INTO inboxes (tenant_id, id, customer_id, provider, from_email, daily_cap, smtp_host, smtp_port, smtp_secure) VALUES (current_setting('app.tenant_id')::uuid, $1, $2, 'smtp', $3, 50, 'localhost', 25, false)",
      [inbox, customer, `${inbox}@sender.example`],
    );
    const campaign = newId('cmp');
    await m.query(
      `INSERT INTO campaigns (tenant_id, id, customer_id, name, status, timezone, days, window_start, window_end)
       VALUES (current_setting('app.tenant_id')::uuid, $1, $2, 'Threads', 'active', 'UTC', '{1,2,3,4,5}', '09:00', '17:00')`,
      [campaign, customer],
    );
    const out: Enrolled[] = [];
    for (let i = 0; i < n; i++) {
      const lead = newId('lead');
      await m.query("INSERT INTO leads (tenant_id, id, customer_id, email, source) VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, 'api')", [
        lead,
        customer,
        `${lead}@lead.example`,
      ]);
      const enrollment = newId('enr');
      await m.query(
        "INSERT INTO enrollments (tenant_id, id, customer_id, campaign_id, lead_id, inbox_id, status) VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, $4, $5, 'active')",
        [enrollment, customer, campaign, lead, inbox],
      );
      out.push({ inbox, campaign, lead, enrollment });
    }
    return out;
  });
}

const outbound = (e: Enrolled, step: number): OutboundMessage => ({
  id: newId('msg'),
  customerId: t.customers[0]!.id,
  campaignId: e.campaign,
  enrollmentId: e.enrollment,
  leadId: e.lead,
  inboxId: e.inbox,
  step,
  messageId: `<${newId('msg')}@sender.example>`,
  scheduledAt: new Date(),
});

const conversationOf = (messageId: string) =>
  withTenant(app, t.tenant.id, async (m) => {
    const [row] = (await m.query('SELECT conversation_id FROM messages WHERE id = $1', [messageId])) as { conversation_id: string | null }[];
    return row?.conversation_id ? findConversation(m, row.conversation_id, t.customers[0]!.id) : undefined;
  });

describe('the migration', () => {
  it('puts every message already sent, and every reply, in its lead conversation', async () => {
    const [a, b] = await enrolled(2);
    const qr = owner.createQueryRunner();
    try {
      await new ConversationPermissions1730000016100().down(qr);
      await new Conversations1730000016000().down(qr);
      const messages: string[] = [];
      await qr.startTransaction();
      await qr.query("SELECT set_config('app.tenant_id', $1, true)", [t.tenant.id]);
      const insert = async (e: Enrolled, direction: 'outbound' | 'inbound', step: number | null, subject: string, at: string, inboxId: string | null) => {
        const id = newId('msg');
        messages.push(id);
        await qr.query(
          `INSERT INTO messages (tenant_id, id, customer_id, campaign_id, enrollment_id, lead_id, inbox_id, direction, step, status, message_id, subject, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
          [
            t.tenant.id,
            id,
            t.customers[0]!.id,
            e.campaign,
            e.enrollment,
            e.lead,
            inboxId,
            direction,
            step,
            direction === 'outbound' ? 'accepted' : 'received',
            `<${id}@x>`,
            subject,
            at,
          ],
        );
      };
      await insert(a!, 'outbound', 1, 'Hello A', '2026-01-01T10:00:00Z', a!.inbox);
      await insert(a!, 'inbound', null, 'Re: Hello A', '2026-01-02T10:00:00Z', a!.inbox);
      await insert(a!, 'outbound', 2, 'Again A', '2026-01-03T10:00:00Z', a!.inbox);
      await insert(a!, 'inbound', null, 'Re: Again A', '2026-01-04T10:00:00Z', a!.inbox);
      // An old reply that names no inbox takes its enrollment's.
      await insert(b!, 'outbound', 1, 'Hello B', '2026-01-01T10:00:00Z', b!.inbox);
      await insert(b!, 'inbound', null, 'Re: Hello B', '2026-01-02T10:00:00Z', null);
      await qr.commitTransaction();
      await new Conversations1730000016000().up(qr);
      await new ConversationPermissions1730000016100().up(qr);

      const rows = await withTenant(app, t.tenant.id, (m) =>
        m.query(
          `SELECT m.id, m.lead_id, c.lead_id AS conversation_lead, c.inbox_id, c.subject, c.unread_count, c.status, c.last_message_at
             FROM messages m LEFT JOIN conversations c ON c.id = m.conversation_id WHERE m.id = ANY($1)`,
          [messages],
        ),
      );
      expect(rows).toHaveLength(6);
      for (const r of rows) expect(r.conversation_lead).toBe(r.lead_id);
      const byLead = new Map((rows as { lead_id: string; last_message_at: Date }[]).map((r) => [r.lead_id, r]));
      expect(byLead.get(a!.lead)).toMatchObject({ inbox_id: a!.inbox, subject: 'Hello A', unread_count: 1, status: 'open' });
      expect(byLead.get(a!.lead)!.last_message_at.toISOString()).toBe('2026-01-04T10:00:00.000Z');
      expect(byLead.get(b!.lead)).toMatchObject({ inbox_id: b!.inbox, subject: 'Hello B', unread_count: 1 });
      const orphans = await withTenant(app, t.tenant.id, (m) => m.query('SELECT count(*)::int AS n FROM messages WHERE conversation_id IS NULL'));
      expect(orphans[0].n).toBe(0);
    } finally {
      if (qr.isTransactionActive) await qr.rollbackTransaction();
      await qr.release();
    }
  });

  it("grants the new permissions to existing tenants' system roles by key", async () => {
    const granted = (await withTenant(app, t.tenant.id, (m) =>
      m.query(
        "SELECT r.key, array_agg(p.permission ORDER BY p.permission) AS permissions FROM roles r JOIN role_permissions p ON p.role_id = r.id WHERE p.permission IN ('conversations.read', 'messages.send') GROUP BY r.key ORDER BY r.key",
      ),
    )) as { key: string; permissions: string[] }[];
    expect(granted).toEqual([
      { key: 'admin', permissions: ['conversations.read', 'messages.send'] },
      { key: 'member', permissions: ['conversations.read', 'messages.send'] },
      { key: 'owner', permissions: ['conversations.read', 'messages.send'] },
      { key: 'viewer', permissions: ['conversations.read'] },
    ]);
  });
});

describe('a message joins its conversation as it is recorded', () => {
  it("a sequence send makes the (inbox, lead) conversation, and the lead's next step joins it", async () => {
    const [e] = await enrolled(1);
    const first = outbound(e!, 1);
    const second = outbound(e!, 2);
    await withTenant(app, t.tenant.id, (m) => insertSendingMessage(m, first, { subject: 'Step one', body: 'b', unsubscribeToken: `u_${first.id}` }));
    const made = await conversationOf(first.id);
    expect(made).toMatchObject({ inbox_id: e!.inbox, lead_id: e!.lead, subject: 'Step one', status: 'open', unread_count: 0, campaign_ids: [e!.campaign] });
    await withTenant(app, t.tenant.id, (m) => insertSendingMessage(m, second, { subject: 'Step two', body: 'b', unsubscribeToken: `u_${second.id}` }));
    const joined = await conversationOf(second.id);
    expect(joined!.id).toBe(made!.id);
    expect(joined!.subject).toBe('Step one');
    expect(joined!.last_message_at.getTime()).toBeGreaterThanOrEqual(made!.last_message_at.getTime());
    // A retried record of the same step finds the first row and changes nothing.
    const again = await withTenant(app, t.tenant.id, (m) =>
      insertSendingMessage(m, { ...second, id: newId('msg') }, { subject: 'Step two', body: 'b', unsubscribeToken: `u_${newId('msg')}` }),
    );
    expect(again).toBeUndefined();
    // A step that could not be rendered joins it too.
    const broken = outbound(e!, 3);
    await withTenant(app, t.tenant.id, (m) => recordRenderError(m, broken, 'missing value'));
    expect((await conversationOf(broken.id))!.id).toBe(made!.id);
  });

  it('a reply counts as unread and reopens a closed or snoozed conversation; a repeated reply counts once', async () => {
    const [e] = await enrolled(1);
    const sent = outbound(e!, 1);
    await withTenant(app, t.tenant.id, (m) => insertSendingMessage(m, sent, { subject: 'Hi', body: 'b', unsubscribeToken: `u_${sent.id}` }));
    const conversation = (await conversationOf(sent.id))!;
    const reply = (inboundId: string, inboundMessageId: string) =>
      withTenant(app, t.tenant.id, (m) =>
        recordReplyOrBounce(
          m,
          t.tenant.id,
          { customer_id: t.customers[0]!.id, campaign_id: e!.campaign, enrollment_id: e!.enrollment, lead_id: e!.lead, inbox_id: e!.inbox },
          { inboundId, inboundMessageId, subject: 'Re: Hi', body: 'yes', outcome: 'replied', stops: true },
        ),
      );
    await withTenant(app, t.tenant.id, (m) => updateConversation(m, conversation.id, { status: 'closed' }));
    const first = newId('msg');
    await reply(first, `<${first}@lead.example>`);
    await reply(newId('msg'), `<${first}@lead.example>`);
    let now = (await conversationOf(first))!;
    expect(now).toMatchObject({ id: conversation.id, status: 'open', unread_count: 1 });

    await withTenant(app, t.tenant.id, (m) =>
      updateConversation(m, conversation.id, { status: 'snoozed', snoozedUntil: new Date(Date.now() + 86_400_000), read: true }),
    );
    expect((await conversationOf(first))!).toMatchObject({ status: 'snoozed', unread_count: 0 });
    const second = newId('msg');
    await reply(second, `<${second}@lead.example>`);
    now = (await conversationOf(second))!;
    expect(now).toMatchObject({ id: conversation.id, status: 'open', snoozed_until: null, unread_count: 1 });
  });

  it('a snooze whose time has passed reads as open', async () => {
    const [e] = await enrolled(1);
    const sent = outbound(e!, 1);
    await withTenant(app, t.tenant.id, (m) => insertSendingMessage(m, sent, { subject: 'Hi', body: 'b', unsubscribeToken: `u_${sent.id}` }));
    const conversation = (await conversationOf(sent.id))!;
    await withTenant(app, t.tenant.id, (m) => updateConversation(m, conversation.id, { status: 'snoozed', snoozedUntil: new Date(Date.now() - 1000) }));
    expect((await conversationOf(sent.id))!).toMatchObject({ status: 'open', snoozed_until: null });
  });
});

describe('what removing an inbox or a lead does', () => {
  it('an inbox removed keeps its threads and their messages; a lead removed takes its conversations with it', async () => {
    const [e] = await enrolled(1);
    const sent = outbound(e!, 1);
    await withTenant(app, t.tenant.id, (m) => insertSendingMessage(m, sent, { subject: 'Hi', body: 'b', unsubscribeToken: `u_${sent.id}` }));
    const conversation = (await conversationOf(sent.id))!;
    await withTenant(app, t.tenant.id, async (m) => {
      await m.query('DELETE FROM inboxes WHERE id = $1', [e!.inbox]);
    });
    expect(await conversationOf(sent.id)).toMatchObject({ id: conversation.id, inbox_email: null });
    await withTenant(app, t.tenant.id, async (m) => {
      await m.query('DELETE FROM leads WHERE id = $1', [e!.lead]);
    });
    const left = await withTenant(app, t.tenant.id, (m) => m.query('SELECT count(*)::int AS n FROM conversations WHERE id = $1', [conversation.id]));
    expect(left[0].n).toBe(0);
  });
});
