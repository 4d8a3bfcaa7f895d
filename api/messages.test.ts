// POST /api/messages/send and GET /api/messages/{id} against the project's
// worker on the run's Temporal server, a real SMTP server and the real
// database: a reply threads (its .eml carries our Message-ID format,
// In-Reply-To and References); a one-off goes out unthreaded; a suppressed
// address is refused before anything is recorded, and one suppressed while
// the message waits is not sent; the same Idempotency-Key twice is one
// message and one workflow; a quota of 2 sends exactly 2 of 3 and queues the
// third; bad input answers 400 and writes nothing.
import { Client, Connection } from '@temporalio/client';
import type Koa from 'koa';
import { type DataSource } from 'typeorm';
import { type AppState } from './state';
import { withTenant } from '../db/tenantContext';
import { testApp, type Agent } from '../test/helpers/api';
import { seedConversation } from '../test/helpers/conversationSeed';
import { createTenant, type TenantFixture } from '../test/helpers/fixtures';
import { addLeads, createCampaign, createSmtpInbox, until } from '../test/helpers/outreach';
import { startSmtpServer, type TestSmtpServer } from '../test/helpers/smtp';
import { signedInMembers, useSuiteDatabase } from '../test/helpers/suite';
import { startProjectWorker, temporalAddress, uniqueTaskQueue } from '../test/helpers/temporal';
import { freePort } from '../scripts/lib/net';
import { messageWorkflowId } from '../workflows/ids';

jest.setTimeout(120_000);

const suite = useSuiteDatabase('messages_api');
let ds: DataSource;
let connection: Connection;
let client: Client;
let smtp: TestSmtpServer;
let app: Koa<AppState>;
let worker: { stop(): Promise<void> };
let taskQueue: string;

beforeAll(async () => {
  ds = suite.ds;
  connection = await Connection.connect({ address: temporalAddress() });
  client = new Client({ connection });
  smtp = await startSmtpServer();
  taskQueue = uniqueTaskQueue('messages');
  app = testApp(ds, { client, taskQueue });
  worker = await startProjectWorker({ taskQueue, dataSource: ds });
});

afterAll(async () => {
  await worker?.stop();
  await smtp?.stop();
  await connection?.close();
});

interface Setup {
  t: TenantFixture;
  owner: Agent;
  customer: string;
  inbox: string;
  campaign: string;
  lead: (email: string) => Promise<string>;
}

/** A tenant with an owner, an SMTP inbox on the test server and a (never started) campaign leads are added to. */
async function setup(opts: { dailyCap?: number } = {}): Promise<Setup> {
  const t = await createTenant(ds, { customers: 1 });
  const [owner] = await signedInMembers(ds, app, t, ['owner']);
  const customer = t.customers[0]!.id;
  const inbox = await createSmtpInbox(owner!, customer, smtp.port, { dailyCap: opts.dailyCap ?? 100, fromEmail: 'sales@agency.example' });
  const campaign = await createCampaign(owner!, customer, { inboxIds: [inbox] });
  const lead = async (email: string) => {
    await addLeads(owner!, customer, campaign, [{ email, firstName: 'Lee' }]);
    const [row] = (await withTenant(ds, t.tenant.id, (m) => m.query('SELECT id FROM leads WHERE email = $1', [email]))) as { id: string }[];
    return row!.id;
  };
  return { t, owner: owner!, customer, inbox, campaign, lead };
}

const send = (s: Setup, body: object, key?: string) => {
  const req = s.owner.post('/api/messages/send').set('X-Customer-Id', s.customer);
  return (key ? req.set('Idempotency-Key', key) : req).send(body);
};

async function settled(s: Setup, id: string, status = 'accepted') {
  return until(
    `message ${id} ${status}`,
    async () => {
      const res = await s.owner.get(`/api/messages/${id}`).set('X-Customer-Id', s.customer);
      return res.body.status === status ? res.body : undefined;
    },
    60_000,
  );
}

const messageCount = (s: Setup) =>
  withTenant(ds, s.t.tenant.id, async (m) =>
    Number(((await m.query("SELECT count(*)::int AS n FROM messages WHERE origin = 'manual'")) as { n: number }[])[0]!.n),
  );

const receivedBy = (email: string) => smtp.received.filter((r) => r.envelope.to.includes(email));

it('sends a reply that threads under the lead’s last message, with our Message-ID', async () => {
  const s = await setup();
  const lead = await s.lead('thread@lead.example');
  const conversationId = await seedConversation(
    ds,
    s.t.tenant.id,
    { customerId: s.customer, inboxId: s.inbox, campaignId: s.campaign, leadId: lead },
    { subject: 'Hello Lee', reply: 'Tell me more.' },
  );
  const ids = (await withTenant(ds, s.t.tenant.id, (m) =>
    m.query('SELECT message_id, direction FROM messages WHERE conversation_id = $1 ORDER BY created_at, id', [conversationId]),
  )) as { message_id: string; direction: string }[];
  const [sent, reply] = ids;
  expect(reply!.direction).toBe('inbound');

  const res = await send(s, { conversationId, text: 'Happy to. Here is more.' }, 'reply-1');
  expect(res.status).toBe(202);
  expect(res.body).toEqual({ id: expect.stringMatching(/^msg_/), conversationId, status: 'queued', queuedUntil: null });
  const done = await settled(s, res.body.id);
  expect(done).toMatchObject({
    id: res.body.id,
    conversationId,
    leadId: lead,
    inboxId: s.inbox,
    direction: 'outbound',
    origin: 'manual',
    status: 'accepted',
    queuedUntil: null,
    subject: 'Re: Hello Lee',
    text: 'Happy to. Here is more.',
    error: null,
  });
  expect(done.sentAt).toEqual(expect.any(String));

  const [mail] = receivedBy('thread@lead.example');
  expect(mail).toBeDefined();
  expect(mail!.parsed.messageId).toBe(`<${res.body.id}.${s.t.tenant.id}@agency.example>`);
  expect(mail!.raw).toMatch(new RegExp(`^Message-ID:\\s+<${res.body.id}\\.${s.t.tenant.id}@agency\\.example>`, 'mi'));
  // In-Reply-To names the lead's reply; References the thread, oldest first.
  expect(mail!.parsed.inReplyTo).toBe(reply!.message_id);
  expect(mail!.parsed.references).toEqual([sent!.message_id, reply!.message_id]);
  expect(mail!.parsed.subject).toBe('Re: Hello Lee');
  expect(mail!.parsed.text?.trim()).toBe('Happy to. Here is more.');

  // The thread shows it as a manual message.
  const thread = await s.owner.get(`/api/conversations/${conversationId}`).set('X-Customer-Id', s.customer);
  expect(thread.body.messages.data[0]).toMatchObject({ id: res.body.id, origin: 'manual', status: 'accepted' });
});

it('sends a one-off message to a lead from one of the customer’s inboxes, without threading headers', async () => {
  const s = await setup();
  const lead = await s.lead('oneoff@lead.example');
  const res = await send(s, { leadId: lead, inboxId: s.inbox, subject: 'A quick question', text: 'Are you free on Monday?' });
  expect(res.status).toBe(202);
  await settled(s, res.body.id);
  const [mail] = receivedBy('oneoff@lead.example');
  expect(mail!.parsed.subject).toBe('A quick question');
  expect(mail!.parsed.inReplyTo).toBeUndefined();
  expect(mail!.parsed.references).toBeUndefined();
  expect(mail!.envelope.from).toBe('sales@agency.example');
  // It starts the lead's conversation with this inbox.
  const c = await s.owner.get(`/api/conversations/${res.body.conversationId}`).set('X-Customer-Id', s.customer);
  expect(c.body.conversation).toMatchObject({ inboxId: s.inbox, subject: 'A quick question', lead: { id: lead } });
  // The Outbox lists it beside the campaigns' mail, as written by hand.
  const outbox = await s.owner.get('/api/outbox?limit=10').set('X-Customer-Id', s.customer);
  expect(outbox.status).toBe(200);
  expect(outbox.body.data).toContainEqual(
    expect.objectContaining({
      id: res.body.id,
      origin: 'manual',
      campaignId: null,
      campaignName: null,
      step: null,
      status: 'accepted',
      to: 'oneoff@lead.example',
    }),
  );
});

it('refuses a suppressed address with 422, recording and sending nothing', async () => {
  const s = await setup();
  const lead = await s.lead('gone@lead.example');
  await withTenant(ds, s.t.tenant.id, (m) =>
    m.query("INSERT INTO suppressions (tenant_id, email, reason) VALUES (current_setting('app.tenant_id')::uuid, 'gone@lead.example', 'unsubscribed')"),
  );
  const res = await send(s, { leadId: lead, inboxId: s.inbox, subject: 'Hello', text: 'Hi.' });
  expect(res.status).toBe(422);
  expect(res.body.error).toMatchObject({ code: 'address_suppressed', message: expect.stringContaining('suppression list') });
  expect(await messageCount(s)).toBe(0);
  await new Promise((r) => setTimeout(r, 500));
  expect(receivedBy('gone@lead.example')).toHaveLength(0);
});

it('refuses a lead that hard-bounced with 422 too: a bounce is no suppression entry, but the address takes no more mail', async () => {
  const s = await setup();
  const lead = await s.lead('bounced@lead.example');
  await withTenant(ds, s.t.tenant.id, (m) => m.query("UPDATE leads SET status = 'bounced' WHERE id = $1", [lead]));
  const res = await send(s, { leadId: lead, inboxId: s.inbox, subject: 'Hello', text: 'Hi.' });
  expect(res.status).toBe(422);
  expect(res.body.error).toMatchObject({ code: 'address_suppressed' });
  expect(await messageCount(s)).toBe(0);
});

it('keeps a message queued, with the reason, while its SMTP server cannot be reached: it is sent later, so it never reads "failed"', async () => {
  const s = await setup();
  // An inbox whose SMTP server is down: nothing listens on this port.
  const down = await createSmtpInbox(s.owner, s.customer, await freePort(), { fromEmail: 'down@agency.example' });
  const lead = await s.lead('waiting@lead.example');
  const res = await send(s, { leadId: lead, inboxId: down, subject: 'Hello', text: 'Hi.' });
  expect(res.status).toBe(202);
  const row = await until(
    'the first failed attempt',
    async () => {
      const r = await s.owner.get(`/api/messages/${res.body.id}`).set('X-Customer-Id', s.customer);
      return r.body.error ? r.body : undefined;
    },
    60_000,
  );
  expect(row).toMatchObject({ status: 'queued', error: expect.any(String) });
  await client.workflow.getHandle(messageWorkflowId({ tenantId: s.t.tenant.id, messageId: res.body.id })).terminate('test over');
});

it('does not send a queued message whose address was suppressed before its turn', async () => {
  // No worker serves this task queue until the address is suppressed.
  const queue = uniqueTaskQueue('messages-later');
  const s = await setup();
  const later = testApp(ds, { client, taskQueue: queue });
  const [owner] = await signedInMembers(ds, later, s.t, ['owner']);
  const lead = await s.lead('later@lead.example');
  const res = await owner!.post('/api/messages/send').set('X-Customer-Id', s.customer).send({ leadId: lead, inboxId: s.inbox, subject: 'Hi', text: 'Hello.' });
  expect(res.status).toBe(202);
  await withTenant(ds, s.t.tenant.id, (m) =>
    m.query("INSERT INTO suppressions (tenant_id, email, reason) VALUES (current_setting('app.tenant_id')::uuid, 'later@lead.example', 'bounced')"),
  );
  const w = await startProjectWorker({ taskQueue: queue, dataSource: ds });
  try {
    const done = await settled(s, res.body.id, 'failed');
    expect(done.error).toMatch(/suppression list/);
    expect(await client.workflow.getHandle(messageWorkflowId({ tenantId: s.t.tenant.id, messageId: res.body.id })).result()).toEqual({
      outcome: 'suppressed',
    });
  } finally {
    await w.stop();
  }
  expect(receivedBy('later@lead.example')).toHaveLength(0);
});

it('makes one message and one workflow of the same Idempotency-Key sent twice', async () => {
  const s = await setup();
  const lead = await s.lead('twice@lead.example');
  const body = { leadId: lead, inboxId: s.inbox, subject: 'Once', text: 'Only once.' };
  const [a, b] = await Promise.all([send(s, body, 'same-key'), send(s, body, 'same-key')]);
  const c = await send(s, body, 'same-key');
  expect([a.status, b.status, c.status]).toEqual([202, 202, 202]);
  expect(new Set([a.body.id, b.body.id, c.body.id]).size).toBe(1);
  expect(c.headers['idempotent-replayed']).toBe('true');
  await settled(s, a.body.id);
  expect(await messageCount(s)).toBe(1);
  const runs = [];
  for await (const wf of client.workflow.list({ query: `TenantId = '${s.t.tenant.id}' AND WorkflowType = 'sendMessage'` })) runs.push(wf.workflowId);
  expect(runs.length).toBeLessThanOrEqual(1);
  const described = await client.workflow.getHandle(messageWorkflowId({ tenantId: s.t.tenant.id, messageId: a.body.id })).describe();
  expect(described.status.name).toBe('COMPLETED');
  await new Promise((r) => setTimeout(r, 500));
  expect(receivedBy('twice@lead.example')).toHaveLength(1);
});

it('never exceeds the monthly quota: of 3 messages with 2 sends left, 2 go out and 1 waits for the next period', async () => {
  const s = await setup();
  await withTenant(ds, s.t.tenant.id, (m) =>
    m.query(
      `INSERT INTO entitlements (tenant_id, key, enabled, limit_value, source) VALUES (current_setting('app.tenant_id')::uuid, 'monthly_sends', true, 2, 'test')
       ON CONFLICT (tenant_id, key) DO UPDATE SET enabled = true, limit_value = 2`,
    ),
  );
  const leads = await Promise.all(['q1', 'q2', 'q3'].map((n) => s.lead(`${n}@quota.example`)));
  const ids: string[] = [];
  for (const lead of leads) {
    const res = await send(s, { leadId: lead, inboxId: s.inbox, subject: 'Quota', text: 'Hello.' });
    expect(res.status).toBe(202);
    ids.push(res.body.id as string);
  }
  const statuses = await until(
    'two sent and one queued until the next period',
    async () => {
      const all = await Promise.all(ids.map(async (id) => (await s.owner.get(`/api/messages/${id}`).set('X-Customer-Id', s.customer)).body));
      const sent = all.filter((x) => x.status === 'accepted');
      const queued = all.filter((x) => x.status === 'queued' && x.queuedUntil !== null);
      return sent.length === 2 && queued.length === 1 ? all : undefined;
    },
    60_000,
  );
  const now = new Date();
  const nextPeriod = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
  expect(Date.parse(statuses.find((x) => x.status === 'queued')!.queuedUntil)).toBe(nextPeriod);
  await new Promise((r) => setTimeout(r, 1000));
  expect(smtp.received.filter((r) => r.envelope.to[0]!.endsWith('@quota.example'))).toHaveLength(2);
  const [account] = (await withTenant(ds, s.t.tenant.id, (m) => m.query('SELECT period_sends FROM billing_accounts'))) as { period_sends: number }[];
  expect(account!.period_sends).toBe(2);
});

it('answers 400 to bad input and writes nothing', async () => {
  const s = await setup();
  const lead = await s.lead('bad@lead.example');
  const other = await setup();
  const otherLead = await other.lead('elsewhere@lead.example');
  const cases: [object, string][] = [
    [{ leadId: lead, inboxId: s.inbox, subject: 'Hi' }, 'text'],
    [{ leadId: lead, inboxId: s.inbox, subject: 'Hi', text: '   ' }, 'text'],
    [{ leadId: lead, inboxId: s.inbox, text: 'Hi' }, 'subject'],
    [{ leadId: lead, subject: 'Hi', text: 'Hi' }, 'conversationId'],
    [{ leadId: lead, inboxId: s.inbox, subject: 'Hi\r\nBcc: x@evil.example', text: 'Hi' }, 'subject'],
    [{ leadId: lead, inboxId: s.inbox, subject: 'Hi', text: 'x'.repeat(50_001) }, 'text'],
    [{ leadId: 'lead_nope', inboxId: s.inbox, subject: 'Hi', text: 'Hi' }, 'leadId'],
    [{ conversationId: 'conv_00000000000000000000000000', leadId: lead, text: 'Hi' }, 'conversationId'],
    [{ leadId: lead, inboxId: s.inbox, subject: 'Hi', text: 'Hi', cc: 'x@y.example' }, '(root)'],
  ];
  for (const [body, path] of cases) {
    const res = await send(s, body);
    expect([res.status, res.body.error?.code]).toEqual([400, 'validation_failed']);
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
  }
  // Another customer's lead or inbox, or a conversation that does not exist: the same 404 as nothing at all.
  const missing: [object, string][] = [
    [{ leadId: otherLead, inboxId: s.inbox, subject: 'Hi', text: 'Hi' }, 'lead not found'],
    [{ leadId: lead, inboxId: other.inbox, subject: 'Hi', text: 'Hi' }, 'inbox not found'],
    [{ conversationId: 'conv_00000000000000000000000000', text: 'Hi' }, 'conversation not found'],
  ];
  for (const [body, message] of missing) {
    const res = await send(s, body);
    expect([res.status, res.body.error?.message]).toEqual([404, message]);
  }
  expect(await messageCount(s)).toBe(0);
  expect(await messageCount(other)).toBe(0);
});

it('answers 404 for a message of another customer or tenant, and needs messages.send to send', async () => {
  const s = await setup();
  const lead = await s.lead('perm@lead.example');
  const res = await send(s, { leadId: lead, inboxId: s.inbox, subject: 'Hi', text: 'Hello.' });
  await settled(s, res.body.id);
  const other = await setup();
  expect((await other.owner.get(`/api/messages/${res.body.id}`).set('X-Customer-Id', other.customer)).status).toBe(404);
  const [viewer] = await signedInMembers(ds, app, s.t, ['viewer']);
  expect((await viewer!.get(`/api/messages/${res.body.id}`).set('X-Customer-Id', s.customer)).status).toBe(200);
  const denied = await viewer!.post('/api/messages/send').set('X-Customer-Id', s.customer).send({ leadId: lead, inboxId: s.inbox, subject: 'Hi', text: 'x' });
  expect(denied.status).toBe(403);
});
