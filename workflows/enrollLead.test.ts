// Enrollments end to end on the Temporal dev server with the project's worker
// and a real SMTP server: what the recipient gets (headers, rendered body,
// List-Unsubscribe), pinned sequence versions, pause/resume, a missing
// template value, campaign fan-out, signed reply/bounce/open webhooks
// (idempotent, 401 on a bad signature, never across tenants, dead letters and
// their replay) and unsubscribe across every enrollment of the address.
import { Connection, Client } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import request from 'supertest';
import { type DataSource } from 'typeorm';
import { insertEvents } from '../db/analyticsEvents';
import { withTenant } from '../db/tenantContext';
import { createWorker } from '../worker/createWorker';
import { createTestDatabase, openDataSource, type TestDatabase } from '../test/helpers/database';
import { addMember, createTenant, createUser, type TenantFixture } from '../test/helpers/fixtures';
import { signIn, testApp, type Agent } from '../test/helpers/api';
import { connectClient, projectWorkflowBundle, quietRuntime, temporalAddress, uniqueTaskQueue } from '../test/helpers/temporal';
import { addLeads, createCampaign, createSmtpInbox, postEmailWebhook, setCampaignStatus, until } from '../test/helpers/outreach';
import { startSmtpServer, type TestSmtpServer, TEST_OUTBOUND } from '../test/helpers/smtp';
import { enrollmentWorkflowId } from './ids';
import { bounceSignal, statusQuery, unsubscribeSignal } from './enrollLead';

const SECRET = 'test-webhook-secret-0123456789';
let db: TestDatabase;
let ds: DataSource;
let client: Client;
let clientConnection: Connection;
let apiTemporal: Connection;
let workerConnection: NativeConnection;
let worker: Worker;
let running: Promise<void>;
let smtp: TestSmtpServer;
let a: TenantFixture;
let b: TenantFixture;
let owner: Agent;
let ownerB: Agent;
let admin: Agent;
let api: ReturnType<typeof testApp>;
let inboxA: string;
let inboxA1: string;
let inboxB: string;

beforeAll(async () => {
  db = await createTestDatabase('enroll');
  ds = await openDataSource(db.appUrl, 'tenantflow-enroll-test');
  ({ client, connection: clientConnection } = await connectClient());
  apiTemporal = await Connection.connect({ address: temporalAddress() });
  smtp = await startSmtpServer();
  const taskQueue = uniqueTaskQueue('enroll');
  quietRuntime();
  workerConnection = await NativeConnection.connect({ address: temporalAddress() });
  worker = await createWorker({
    connection: workerConnection,
    namespace: 'default',
    taskQueue,
    activities: { dataSource: ds, apiUrl: 'https://api.tenantflow.example', outbound: TEST_OUTBOUND },
    workflowBundle: await projectWorkflowBundle(),
  });
  running = worker.run();
  api = testApp(ds, { client: new Client({ connection: apiTemporal }), taskQueue, emailWebhookSecrets: { smartlead: SECRET } });
  a = await createTenant(ds, { customers: 2 });
  b = await createTenant(ds, { customers: 1 });
  const [o, ob, pa] = [await createUser(ds), await createUser(ds), await createUser(ds, { platformAdmin: true })];
  await addMember(ds, a, o, 'owner');
  await addMember(ds, b, ob, 'owner');
  owner = await signIn(api, o.email);
  ownerB = await signIn(api, ob.email);
  admin = await signIn(api, pa.email);
  inboxA = await createSmtpInbox(owner, c(0), smtp.port);
  inboxA1 = await createSmtpInbox(owner, c(1), smtp.port);
  inboxB = await createSmtpInbox(ownerB, b.customers[0]!.id, smtp.port);
});

afterAll(async () => {
  worker?.shutdown();
  await running?.catch(() => undefined);
  await workerConnection?.close();
  await smtp?.stop();
  await apiTemporal?.close();
  await clientConnection?.close();
  await ds?.destroy();
  await db?.drop();
});

const c = (i: number) => a.customers[i]!.id;
let n = 0;
const address = (label: string) => `${label}-${++n}-${Date.now().toString(36)}@lead.example`;
/** Header lines as one line each (long headers are folded on the wire). */
const unfolded = (raw: string) => raw.replace(/\r?\n[ \t]+/g, ' ');
const mailsTo = (to: string) => smtp.received.filter((m) => m.envelope.to.includes(to));

async function enrollment(tenantId: string, campaignId: string, leadEmail: string) {
  return withTenant(ds, tenantId, async (m) => {
    const [row] = (await m.query(
      'SELECT e.id, e.lead_id, e.status, e.sequence_version, e.sent FROM enrollments e JOIN leads l ON l.id = e.lead_id WHERE e.campaign_id = $1 AND l.email = $2',
      [campaignId, leadEmail],
    )) as {
      id: string;
      lead_id: string;
      status: string;
      sequence_version: number;
      sent: number;
    }[];
    return row!;
  });
}

const handleOf = (tenantId: string, campaignId: string, leadId: string) => client.workflow.getHandle(enrollmentWorkflowId({ tenantId, campaignId, leadId }));

async function waitForState(tenantId: string, campaignId: string, leadId: string, state: string) {
  return until(`enrollment state ${state}`, async () => {
    const s = await handleOf(tenantId, campaignId, leadId)
      .query(statusQuery)
      .catch(() => undefined);
    return s?.state === state ? s : undefined;
  });
}

/** The local activities an enrollment's history ran, by type, in order. */
async function localActivities(tenantId: string, campaignId: string, leadId: string): Promise<string[]> {
  const history = await handleOf(tenantId, campaignId, leadId).fetchHistory();
  return (history.events ?? []).flatMap((e) => {
    const m = e.markerRecordedEventAttributes;
    if (m?.markerName !== 'core_local_activity') return [];
    const data = m.details?.data?.payloads?.[0]?.data;
    return data ? [(JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type: string }).activity_type] : [];
  });
}

const webhook = (event: object, opts: { secret?: string; timestamp?: number } = {}) => postEmailWebhook(api, opts.secret ?? SECRET, event, opts);

const webhookRows = async () => Number(((await ds.query('SELECT count(*)::int AS n FROM webhook_events')) as { n: number }[])[0]!.n);

it('sends each lead the rendered step over SMTP with the right headers, recipients and List-Unsubscribe', async () => {
  const campaign = await createCampaign(owner, c(0), { inboxIds: [inboxA] });
  const ada = address('ada');
  const bob = address('bob');
  expect(
    await addLeads(owner, c(0), campaign, [
      { email: ada, firstName: 'Ada', company: 'Analytical' },
      { email: bob, firstName: 'Bob', company: 'Builders' },
    ]),
  ).toMatchObject({ added: 2, skipped: 0 });
  await setCampaignStatus(owner, c(0), campaign, 'active');

  await until('both mails', async () => mailsTo(ada).length + mailsTo(bob).length === 2);
  const [mail] = mailsTo(ada);
  expect(mail!.envelope.to).toEqual([ada]);
  expect(mail!.parsed.subject).toBe('Hello Ada');
  expect(mail!.parsed.text?.trim()).toBe('Hi Ada, a note for Analytical.');
  expect(mail!.parsed.from?.value[0]).toMatchObject({ name: 'Agency Sales', address: expect.stringMatching(/@agency\.example$/) });
  const e = await enrollment(a.tenant.id, campaign, ada);
  expect(mail!.parsed.messageId).toBe(`<${e.id}.1.${a.tenant.id}@agency.example>`);
  expect(unfolded(mail!.raw)).toMatch(/List-Unsubscribe: <https:\/\/api\.tenantflow\.example\/api\/unsubscribe\/u_[0-9a-f-]{36}_[A-Za-z0-9_-]+>/);
  expect(unfolded(mail!.raw)).toContain('List-Unsubscribe-Post: List-Unsubscribe=One-Click');

  const done = await handleOf(a.tenant.id, campaign, e.lead_id).result();
  expect(done).toMatchObject({ state: 'completed', sent: 1 });
  const stats = await until('stats', async () => {
    const s = await owner.get(`/api/campaigns/${campaign}/stats`).set('X-Customer-Id', c(0));
    return s.body.completed === 2 ? s : undefined;
  });
  expect(stats.status).toBe(200);
  const outbox = await owner.get('/api/outbox').set('X-Customer-Id', c(0));
  expect(outbox.body.data.map((m: { to: string }) => m.to)).toEqual(expect.arrayContaining([ada, bob]));
});

it('counts a send whose outcome is unknown as uncertain, apart from sent, in the stats and every enrollment answer until it is resolved', async () => {
  const campaign = await createCampaign(owner, c(0), { inboxIds: [inboxA] });
  const who = address('uncertain');
  await addLeads(owner, c(0), campaign, [{ email: who, firstName: 'Una', company: 'Unknown' }]);
  await setCampaignStatus(owner, c(0), campaign, 'active');
  await until('mail', async () => mailsTo(who).length === 1);
  const e = await enrollment(a.tenant.id, campaign, who);
  await handleOf(a.tenant.id, campaign, e.lead_id).result();
  // The provider's answer to the send was lost: the send path records it as
  // uncertain, on the row and in the event stream the stats read.
  const outcome = (status: 'uncertain' | 'accepted') =>
    withTenant(ds, a.tenant.id, async (m) => {
      const [msg] = (await m.query(
        "UPDATE messages SET status = $2 WHERE enrollment_id = $1 AND direction = 'outbound' RETURNING id, customer_id, campaign_id, step, lead_id",
        [e.id, status],
      )) as [{ id: string; customer_id: string; campaign_id: string; step: number; lead_id: string }[], number];
      const row = msg[0]!;
      const type = status === 'uncertain' ? 'message.uncertain' : 'message.sent';
      if (status === 'uncertain') await m.query("DELETE FROM analytics_events WHERE message_id = $1 AND type = 'message.sent'", [row.id]);
      const refs = { customerId: row.customer_id, campaignId: row.campaign_id, step: row.step, enrollmentId: e.id, messageId: row.id, leadId: row.lead_id };
      await insertEvents(m, [{ type, ...refs, dedupeKey: `${type}:${row.id}` }]);
    });
  await outcome('uncertain');

  const answers = async () => ({
    stats: (await owner.get(`/api/campaigns/${campaign}/stats`).set('X-Customer-Id', c(0))).body,
    leads: (await owner.get(`/api/campaigns/${campaign}/leads`).set('X-Customer-Id', c(0))).body.data,
    lead: (await owner.get(`/api/leads/${e.lead_id}`).set('X-Customer-Id', c(0))).body,
  });
  const unknown = await answers();
  expect(unknown.stats).toMatchObject({ sent: 0, uncertain: 1, steps: [{ step: 1, sent: 0, uncertain: 1 }] });
  expect(unknown.leads).toEqual([expect.objectContaining({ email: who, sent: 0, uncertain: 1 })]);
  expect(unknown.lead.enrollments).toEqual([expect.objectContaining({ campaignId: campaign, sent: 0, uncertain: 1 })]);

  // Resolved (the provider's log shows it was accepted): now it is a send.
  await outcome('accepted');
  const resolved = await answers();
  expect(resolved.stats).toMatchObject({ sent: 1, uncertain: 0, steps: [{ step: 1, sent: 1, uncertain: 0 }] });
  expect(resolved.leads).toEqual([expect.objectContaining({ sent: 1, uncertain: 0 })]);
  expect(resolved.lead.enrollments).toEqual([expect.objectContaining({ sent: 1, uncertain: 0 })]);
});

it('completes a campaign when its last enrollment ends, and reopens it when leads are added', async () => {
  const campaign = await createCampaign(owner, c(0), { inboxIds: [inboxA] });
  const first = address('first');
  await addLeads(owner, c(0), campaign, [{ email: first, firstName: 'Fay', company: 'First' }]);
  await setCampaignStatus(owner, c(0), campaign, 'active');
  const get = () => owner.get(`/api/campaigns/${campaign}`).set('X-Customer-Id', c(0));
  await until('campaign completed', async () => ((await get()).body.status === 'completed' ? true : undefined));

  const second = address('second');
  expect(await addLeads(owner, c(0), campaign, [{ email: second, firstName: 'Sam', company: 'Second' }])).toMatchObject({ added: 1 });
  expect((await get()).body.status).toBe('active');
  await until('second mail', async () => mailsTo(second).length === 1);
  await until('campaign completed again', async () => ((await get()).body.status === 'completed' ? true : undefined));
  expect(mailsTo(first)).toHaveLength(1);
});

it('keeps a running enrollment on the sequence version it started with; pause and resume hold its clock', async () => {
  const campaign = await createCampaign(owner, c(0), {
    inboxIds: [inboxA],
    steps: [
      { subject: 'v1 first {{firstName}}', body: 'One', delayHours: 0 },
      { subject: 'v1 second', body: 'Two', delayHours: 48 },
    ],
  });
  const first = address('pin');
  await addLeads(owner, c(0), campaign, [{ email: first, firstName: 'Pia' }]);
  await setCampaignStatus(owner, c(0), campaign, 'active');
  await until('step 1', async () => mailsTo(first).length === 1);
  const e1 = await enrollment(a.tenant.id, campaign, first);
  expect(e1.sequence_version).toBe(1);

  const v2 = await owner
    .post(`/api/campaigns/${campaign}/sequence`)
    .set('X-Customer-Id', c(0))
    .send({ steps: [{ subject: 'v2 only {{firstName}}', body: 'New', delayHours: 0 }] });
  expect(v2.body.version).toBe(2);
  const later = address('pin');
  await addLeads(owner, c(0), campaign, [{ email: later, firstName: 'Lou' }]);
  await until('v2 mail', async () => mailsTo(later).length === 1);
  expect(mailsTo(later)[0]!.parsed.subject).toBe('v2 only Lou');
  expect((await enrollment(a.tenant.id, campaign, first)).sequence_version).toBe(1);
  const snap = await owner.get(`/api/campaigns/${campaign}/sequence?version=1`).set('X-Customer-Id', c(0));
  expect(snap.body).toMatchObject({ version: 1, current: false, versions: [1, 2] });

  // The first lead waits 48 h for its v1 step 2; pause and resume it.
  const waiting = await waitForState(a.tenant.id, campaign, e1.lead_id, 'waiting');
  expect(waiting).toMatchObject({ step: 2, sent: 1, nextSendAt: expect.any(String) });
  expect((await owner.post(`/api/campaigns/${campaign}/leads/${e1.lead_id}/pause`).set('X-Customer-Id', c(0))).status).toBe(200);
  await waitForState(a.tenant.id, campaign, e1.lead_id, 'paused');
  await until('paused row', async () => (await enrollment(a.tenant.id, campaign, first)).status === 'paused');
  expect((await owner.post(`/api/campaigns/${campaign}/leads/${e1.lead_id}/resume`).set('X-Customer-Id', c(0))).status).toBe(200);
  await waitForState(a.tenant.id, campaign, e1.lead_id, 'waiting');

  // Pausing and archiving the campaign fan out to every enrollment.
  await setCampaignStatus(owner, c(0), campaign, 'paused');
  await waitForState(a.tenant.id, campaign, e1.lead_id, 'paused');
  await setCampaignStatus(owner, c(0), campaign, 'archived');
  expect(await handleOf(a.tenant.id, campaign, e1.lead_id).result()).toMatchObject({ state: 'archived', sent: 1 });
  expect(mailsTo(first)).toHaveLength(1);
});

it('records a missing template value on the message, pauses, sends nothing, and sends once the lead is fixed and resumed', async () => {
  const campaign = await createCampaign(owner, c(0), { inboxIds: [inboxA] });
  const anon = address('anon');
  await addLeads(owner, c(0), campaign, [{ email: anon, company: 'Nameless' }]);
  await setCampaignStatus(owner, c(0), campaign, 'active');
  const e = await until('paused enrollment', async () => {
    const row = await enrollment(a.tenant.id, campaign, anon);
    return row.status === 'paused' ? row : undefined;
  });
  const history = await owner.get(`/api/campaigns/${campaign}/leads/${e.lead_id}/messages`).set('X-Customer-Id', c(0));
  expect(history.body.data).toEqual([expect.objectContaining({ status: 'render_error', error: expect.stringContaining('{{firstName}}') })]);
  expect(mailsTo(anon)).toHaveLength(0);

  expect((await owner.patch(`/api/leads/${e.lead_id}`).set('X-Customer-Id', c(0)).send({ firstName: 'Nia' })).status).toBe(200);
  expect((await owner.post(`/api/campaigns/${campaign}/leads/${e.lead_id}/resume`).set('X-Customer-Id', c(0))).status).toBe(200);
  await until('the mail', async () => mailsTo(anon).length === 1);
  expect(mailsTo(anon)[0]!.parsed.subject).toBe('Hello Nia');
});

describe('e-mail webhooks', () => {
  let campaign: string;
  let lead: { id: string; lead_id: string };
  let messageId: string;

  beforeAll(async () => {
    campaign = await createCampaign(owner, c(0), {
      inboxIds: [inboxA],
      steps: [
        { subject: 'Hi {{firstName}}', body: 'One', delayHours: 0 },
        { subject: 'Again', body: 'Two', delayHours: 72 },
      ],
    });
    const email = address('reply');
    await addLeads(owner, c(0), campaign, [{ email, firstName: 'Rae' }]);
    await setCampaignStatus(owner, c(0), campaign, 'active');
    await until('first mail', async () => mailsTo(email).length === 1);
    messageId = mailsTo(email)[0]!.parsed.messageId!;
    lead = await enrollment(a.tenant.id, campaign, email);
    await waitForState(a.tenant.id, campaign, lead.lead_id, 'waiting');
  });

  it('refuses a bad signature or a stale timestamp with 401 and stores nothing', async () => {
    const before = await webhookRows();
    expect((await webhook({ id: 'evt-bad', type: 'reply', messageId }, { secret: 'not-the-secret-at-all' })).status).toBe(401);
    expect((await webhook({ id: 'evt-old', type: 'reply', messageId }, { timestamp: Math.floor(Date.now() / 1000) - 301 })).status).toBe(401);
    const unsigned = await request(api.callback())
      .post('/api/webhooks/email/smartlead')
      .set('content-type', 'application/json')
      .send({ id: 'evt-x', type: 'reply', messageId });
    expect(unsigned.status).toBe(401);
    expect(await webhookRows()).toBe(before);
    expect((await request(api.callback()).post('/api/webhooks/email/nope').set('content-type', 'application/json').send('{}')).status).toBe(404);
  });

  it('counts an open, and a signed reply stops the enrollment; the same delivery again answers 200 and does nothing', async () => {
    // The send wrote step 2's due time on the row with its acceptance, 72 h after it started.
    const [row] = (await withTenant(ds, a.tenant.id, (m) =>
      m.query(
        `SELECT e.status, e.current_step, e.next_send_at, m.scheduled_at FROM enrollments e JOIN messages m ON m.enrollment_id = e.id AND m.step = 1
          WHERE e.id = $1`,
        [lead.id],
      ),
    )) as { status: string; current_step: number; next_send_at: Date; scheduled_at: Date }[];
    expect(row).toMatchObject({ status: 'active', current_step: 2 });
    expect(row!.next_send_at.getTime()).toBe(row!.scheduled_at.getTime() + 72 * 3_600_000);
    expect((await webhook({ id: `open-${lead.id}`, type: 'open', messageId })).body).toMatchObject({ status: 'processed' });
    const reply = { id: `reply-${lead.id}`, type: 'reply', messageId, reply: { subject: 'Re: Hi Rae', text: 'Sounds good, call me.' } };
    const first = await webhook(reply);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ duplicate: false, status: 'processed' });
    expect(await handleOf(a.tenant.id, campaign, lead.lead_id).result()).toMatchObject({ state: 'replied', sent: 1 });
    // The webhook's statement wrote the stop on the row and the lead, and the
    // send wrote the next step: the workflow recorded nothing of its own.
    expect(await localActivities(a.tenant.id, campaign, lead.lead_id)).toEqual(['loadEnrollment', 'reserveAndSendStep']);
    const [ended] = (await withTenant(ds, a.tenant.id, (m) =>
      m.query('SELECT e.status, e.next_send_at, l.status AS lead_status FROM enrollments e JOIN leads l ON l.id = e.lead_id WHERE e.id = $1', [lead.id]),
    )) as { status: string; next_send_at: Date | null; lead_status: string }[];
    expect(ended).toEqual({ status: 'replied', next_send_at: null, lead_status: 'replied' });

    const again = await webhook(reply);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ duplicate: true });
    const replies = await owner.get(`/api/campaigns/${campaign}/replies`).set('X-Customer-Id', c(0));
    expect(replies.body.data).toEqual([expect.objectContaining({ leadId: lead.lead_id, subject: 'Re: Hi Rae', body: 'Sounds good, call me.' })]);
    const stats = await owner.get(`/api/campaigns/${campaign}/stats`).set('X-Customer-Id', c(0));
    // The campaign does not track opens: the provider's open is stored, not shown as one.
    expect(stats.body).toMatchObject({ replied: 1, sent: 1, opened: 0, tracking: false });
  });

  it("never lets an event touch another tenant's lead, and keeps unroutable events as dead letters operators can replay", async () => {
    // Tenant B's lead, mid-sequence.
    const bCampaign = await createCampaign(ownerB, b.customers[0]!.id, {
      inboxIds: [inboxB],
      steps: [
        { subject: 'B {{firstName}}', body: 'B', delayHours: 0 },
        { subject: 'B2', body: 'B', delayHours: 72 },
      ],
    });
    const bEmail = address('tenant-b');
    await addLeads(ownerB, b.customers[0]!.id, bCampaign, [{ email: bEmail, firstName: 'Bea' }]);
    await setCampaignStatus(ownerB, b.customers[0]!.id, bCampaign, 'active');
    await until('B mail', async () => mailsTo(bEmail).length === 1);
    const bLead = await enrollment(b.tenant.id, bCampaign, bEmail);
    await waitForState(b.tenant.id, bCampaign, bLead.lead_id, 'waiting');

    // B's enrollment and step under A's tenant id, and A's under B's: neither exists there.
    const forged = [`<${bLead.id}.1.${a.tenant.id}@agency.example>`, messageId.replace(a.tenant.id, b.tenant.id)];
    for (const [i, id] of forged.entries()) {
      const res = await webhook({ id: `forged-${i}-${bLead.id}`, type: 'bounce', messageId: id });
      expect(res.body).toMatchObject({ status: 'dead_letter' });
    }
    expect((await handleOf(b.tenant.id, bCampaign, bLead.lead_id).query(statusQuery)).state).toBe('waiting');
    expect((await enrollment(b.tenant.id, bCampaign, bEmail)).status).toBe('active');

    // An event that arrives before its message exists is a dead letter; once the message is sent, a replay routes it.
    const early = await createCampaign(owner, c(0), {
      inboxIds: [inboxA],
      steps: [
        { subject: 'Hi {{firstName}}', body: 'x', delayHours: 0 },
        { subject: 'Later', body: 'y', delayHours: 72 },
      ],
    });
    const earlyEmail = address('early');
    await addLeads(owner, c(0), early, [{ email: earlyEmail, firstName: 'Eve' }]);
    const pending = await enrollment(a.tenant.id, early, earlyEmail);
    const dead = await webhook({ id: `early-${pending.id}`, type: 'bounce', messageId: `<${pending.id}.1.${a.tenant.id}@agency.example>` });
    expect(dead.body).toMatchObject({ status: 'dead_letter' });
    const listed = await admin.get('/api/platform/webhook-events');
    const deadRow = (listed.body.data as { id: string; eventId: string; error: string }[]).find((r) => r.eventId === `early-${pending.id}`);
    expect(deadRow).toMatchObject({ error: expect.stringContaining('no message') });
    expect((await owner.get('/api/platform/webhook-events')).status).toBe(403);

    await setCampaignStatus(owner, c(0), early, 'active');
    await until('early mail', async () => mailsTo(earlyEmail).length === 1);
    await waitForState(a.tenant.id, early, pending.lead_id, 'waiting');
    const replayed = await admin.post(`/api/platform/webhook-events/${deadRow!.id}/replay`);
    expect(replayed.body).toMatchObject({ status: 'processed' });
    expect(await handleOf(a.tenant.id, early, pending.lead_id).result()).toMatchObject({ state: 'bounced' });
    const leadRow = await owner.get(`/api/leads/${pending.lead_id}`).set('X-Customer-Id', c(0));
    expect(leadRow.body.status).toBe('bounced');
  });
});

it('unsubscribe stops every enrollment of the address in the tenant, and later imports skip it', async () => {
  const shared = address('unsub');
  const one = await createCampaign(owner, c(0), {
    inboxIds: [inboxA],
    steps: [
      { subject: 'Hi {{firstName}}', body: 'x', delayHours: 0 },
      { subject: 'Later', body: 'y', delayHours: 72 },
    ],
  });
  const two = await createCampaign(owner, c(1), {
    inboxIds: [inboxA1],
    steps: [
      { subject: 'Hey {{firstName}}', body: 'x', delayHours: 0 },
      { subject: 'Later', body: 'y', delayHours: 72 },
    ],
  });
  await addLeads(owner, c(0), one, [{ email: shared, firstName: 'Uma' }]);
  await addLeads(owner, c(1), two, [{ email: shared, firstName: 'Uma' }]);
  await setCampaignStatus(owner, c(0), one, 'active');
  await setCampaignStatus(owner, c(1), two, 'active');
  await until('both first mails', async () => mailsTo(shared).length === 2);
  const e1 = await enrollment(a.tenant.id, one, shared);
  const e2 = await enrollment(a.tenant.id, two, shared);
  await waitForState(a.tenant.id, two, e2.lead_id, 'waiting');

  // The recipient clicks the one-click link in the first mail.
  const link = /List-Unsubscribe: <https:\/\/api\.tenantflow\.example(\/api\/unsubscribe\/[^>]+)>/.exec(unfolded(mailsTo(shared)[0]!.raw))![1]!;
  expect((await request(api.callback()).get(link)).status).toBe(200);
  const clicked = await request(api.callback()).post(link).set('content-type', 'application/x-www-form-urlencoded').send('List-Unsubscribe=One-Click');
  expect(clicked.status).toBe(200);

  expect(await handleOf(a.tenant.id, one, e1.lead_id).result()).toMatchObject({ state: 'unsubscribed' });
  expect(await handleOf(a.tenant.id, two, e2.lead_id).result()).toMatchObject({ state: 'unsubscribed' });
  const three = await createCampaign(owner, c(0), { inboxIds: [inboxA] });
  expect(
    await addLeads(owner, c(0), three, [
      { email: shared, firstName: 'Uma' },
      { email: address('fresh'), firstName: 'Fay' },
    ]),
  ).toMatchObject({ added: 1, skipped: 1 });
  expect(mailsTo(shared)).toHaveLength(2);

  // The API route does the same for a lead, by hand.
  const other = address('unsub-api');
  await addLeads(owner, c(0), three, [{ email: other, firstName: 'Ola' }]);
  const e3 = await enrollment(a.tenant.id, three, other);
  const res = await owner.post(`/api/campaigns/${three}/leads/${e3.lead_id}/unsubscribe`).set('X-Customer-Id', c(0));
  expect(res.body).toMatchObject({ status: 'unsubscribed' });
  expect(await addLeads(owner, c(1), two, [{ email: other.toUpperCase(), firstName: 'Ola' }])).toMatchObject({ added: 0, skipped: 1 });
});

it('a bare unsubscribe or bounce signal (say, from the Temporal UI) still marks the lead and suppresses the address', async () => {
  const campaign = await createCampaign(owner, c(0), {
    inboxIds: [inboxA],
    steps: [
      { subject: 'Hi {{firstName}}', body: 'x', delayHours: 0 },
      { subject: 'Later', body: 'y', delayHours: 72 },
    ],
  });
  const [u, v] = [address('bare-unsub'), address('bare-bounce')];
  await addLeads(owner, c(0), campaign, [
    { email: u, firstName: 'Una' },
    { email: v, firstName: 'Vic' },
  ]);
  await setCampaignStatus(owner, c(0), campaign, 'active');
  await until('both mails', async () => mailsTo(u).length + mailsTo(v).length === 2);
  const [eu, ev] = [await enrollment(a.tenant.id, campaign, u), await enrollment(a.tenant.id, campaign, v)];
  await waitForState(a.tenant.id, campaign, eu.lead_id, 'waiting');
  await waitForState(a.tenant.id, campaign, ev.lead_id, 'waiting');
  await handleOf(a.tenant.id, campaign, eu.lead_id).signal(unsubscribeSignal);
  await handleOf(a.tenant.id, campaign, ev.lead_id).signal(bounceSignal);
  expect(await handleOf(a.tenant.id, campaign, eu.lead_id).result()).toMatchObject({ state: 'unsubscribed' });
  expect(await handleOf(a.tenant.id, campaign, ev.lead_id).result()).toMatchObject({ state: 'bounced' });
  expect((await owner.get(`/api/leads/${eu.lead_id}`).set('X-Customer-Id', c(0))).body.status).toBe('unsubscribed');
  expect((await owner.get(`/api/leads/${ev.lead_id}`).set('X-Customer-Id', c(0))).body.status).toBe('bounced');
  const later = await createCampaign(owner, c(1), { inboxIds: [inboxA1] });
  expect(await addLeads(owner, c(1), later, [{ email: u, firstName: 'Una' }])).toMatchObject({ added: 0, skipped: 1 });
});
