// sendMessage where time and crashes matter, with the project's worker, the
// real database and a real SMTP server:
// - on the time-skipping server, an inbox capped at one a day: the second
//   message of the day stays queued, "queued until" the inbox's next day
//   (UTC: no campaign sends from it), and goes out when that day begins;
// - a real worker process killed after the message was recorded as sending
//   and handed to the SMTP server, before the server's answer: the new
//   worker does not send it again and marks it uncertain, which no count of
//   sent mail includes.
import { type ChildProcess } from 'node:child_process';
import { Client, Connection } from '@temporalio/client';
import { type TestWorkflowEnvironment } from '@temporalio/testing';
import { type DataSource } from 'typeorm';
import { withTenant } from '../db/tenantContext';
import { signIn, testApp, type Agent } from '../test/helpers/api';
import { createTestDatabase, openDataSource, type TestDatabase } from '../test/helpers/database';
import { addMember, createTenant, createUser, type TenantFixture } from '../test/helpers/fixtures';
import { createSmtpInbox } from '../test/helpers/outreach';
import { startWorkerProcess, until } from '../test/helpers/processes';
import { startSmtpServer, type TestSmtpServer } from '../test/helpers/smtp';
import { createTimeSkippingEnv, startProjectWorker, temporalAddress, uniqueTaskQueue } from '../test/helpers/temporal';
import { messageWorkflowId } from './ids';

jest.setTimeout(240_000);

const DAY = 86_400_000;
let db: TestDatabase;
let ds: DataSource;
let smtp: TestSmtpServer;

beforeAll(async () => {
  db = await createTestDatabase('send-message');
  ds = await openDataSource(db.appUrl, 'tenantflow-send-message-test');
  smtp = await startSmtpServer();
});

afterAll(async () => {
  await smtp?.stop();
  await ds?.destroy();
  await db?.drop();
});

/** A tenant with a signed-in owner on `app`, and a lead (added as a fixture) of its customer. */
async function tenantWithLead(app: Parameters<typeof signIn>[0], email: string): Promise<{ t: TenantFixture; owner: Agent; customer: string; lead: string }> {
  const t = await createTenant(ds, { customers: 1 });
  const u = await createUser(ds);
  await addMember(ds, t, u, 'owner');
  const owner = await signIn(app, u.email);
  const customer = t.customers[0]!.id;
  const [row] = (await withTenant(ds, t.tenant.id, (m) =>
    m.query(
      "INSERT INTO leads (tenant_id, id, customer_id, email, first_name, source) VALUES (current_setting('app.tenant_id')::uuid, 'lead_' || substr(md5(random()::text), 1, 26), $1, $2, 'Lee', 'api') RETURNING id",
      [customer, email],
    ),
  )) as { id: string }[];
  return { t, owner, customer, lead: row!.id };
}

const status = (tenantId: string, id: string) =>
  withTenant(ds, tenantId, async (m) => {
    const [row] = (await m.query('SELECT status, queued_until, sent_at, error FROM messages WHERE id = $1', [id])) as {
      status: string;
      queued_until: Date | null;
      sent_at: Date | null;
      error: string | null;
    }[];
    return row!;
  });

describe('on the time-skipping server', () => {
  let env: TestWorkflowEnvironment;
  let worker: { stop(): Promise<void> };
  let app: ReturnType<typeof testApp>;

  beforeAll(async () => {
    env = await createTimeSkippingEnv();
    const taskQueue = uniqueTaskQueue('send-message-cap');
    worker = await startProjectWorker({ taskQueue, dataSource: ds, connection: env.nativeConnection });
    app = testApp(ds, { client: env.client, taskQueue });
  });

  afterAll(async () => {
    await worker?.stop();
    await env?.teardown();
  });

  const serverNow = async () => {
    const res = await env.connection.testService!.getCurrentTime({});
    return Number(res.time?.seconds ?? 0) * 1000 + Math.floor((res.time?.nanos ?? 0) / 1e6);
  };

  it('queues the message a full inbox cannot take today, until its next day, and sends it then', async () => {
    const s = await tenantWithLead(app, 'capped@lead.example');
    const inbox = await createSmtpInbox(s.owner, s.customer, smtp.port, { dailyCap: 1, fromEmail: 'capped@agency.example' });
    // 10:00 UTC of a day, so the whole day is ahead.
    await env.sleep(Math.floor((await serverNow()) / DAY + 1) * DAY + 10 * 3_600_000 - (await serverNow()));
    const day1 = Math.floor((await serverNow()) / DAY) * DAY;
    const post = (subject: string) =>
      s.owner.post('/api/messages/send').set('X-Customer-Id', s.customer).send({ leadId: s.lead, inboxId: inbox, subject, text: 'Hello.' });
    const first = await post('First of the day');
    expect(first.status).toBe(202);
    await until('the first sent', async () => ((await status(s.t.tenant.id, first.body.id)).status === 'accepted' ? true : undefined), 60_000);
    const second = await post('Second of the day');
    expect(second.status).toBe(202);
    const queued = await until(
      'the second queued until the next day',
      async () => {
        const res = await s.owner.get(`/api/messages/${second.body.id}`).set('X-Customer-Id', s.customer);
        return res.body.status === 'queued' && res.body.queuedUntil ? res.body : undefined;
      },
      60_000,
    );
    expect(Date.parse(queued.queuedUntil)).toBe(day1 + DAY);
    await new Promise((r) => setTimeout(r, 500));
    expect(smtp.received.filter((r) => r.envelope.to.includes('capped@lead.example')).map((r) => r.parsed.subject)).toEqual(['First of the day']);

    // The day turns: the message takes the new day's slot and goes out.
    await env.sleep(day1 + DAY - (await serverNow()));
    const sent = await until(
      'the second sent the next day',
      async () => {
        const row = await status(s.t.tenant.id, second.body.id);
        return row.status === 'accepted' ? row : undefined;
      },
      60_000,
    );
    expect(sent.queued_until).toBeNull();
    expect(sent.sent_at!.getTime()).toBeGreaterThanOrEqual(day1 + DAY);
    expect(smtp.received.filter((r) => r.envelope.to.includes('capped@lead.example')).map((r) => r.parsed.subject)).toEqual([
      'First of the day',
      'Second of the day',
    ]);
    const slots = (await withTenant(ds, s.t.tenant.id, (m) =>
      m.query('SELECT day::text, message_id FROM inbox_send_slots WHERE inbox_id = $1 ORDER BY day', [inbox]),
    )) as { day: string; message_id: string }[];
    expect(slots.map((x) => x.message_id)).toEqual([first.body.id, second.body.id]);
    expect(Date.parse(`${slots[1]!.day}T00:00:00Z`) - Date.parse(`${slots[0]!.day}T00:00:00Z`)).toBe(DAY);
  });
});

describe('with a worker process killed mid-send', () => {
  const workers: ChildProcess[] = [];
  let connection: Connection;

  beforeAll(async () => {
    connection = await Connection.connect({ address: temporalAddress() });
  });

  afterAll(async () => {
    for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
    await connection?.close();
  });

  it('never sends twice, and marks the send uncertain — not sent — when the worker died before the SMTP answer', async () => {
    const taskQueue = uniqueTaskQueue('send-message-crash');
    const client = new Client({ connection });
    const app = testApp(ds, { client, taskQueue });
    const s = await tenantWithLead(app, 'crash@lead.example');
    const inbox = await createSmtpInbox(s.owner, s.customer, smtp.port, { fromEmail: 'crash@agency.example' });

    const first = startWorkerProcess({ databaseAppUrl: db.appUrl, taskQueue }, workers);
    const killed = new Promise<void>((resolve) => {
      smtp.beforeAccept = async (mail) => {
        if (!mail.envelope.to.includes('crash@lead.example')) return;
        smtp.beforeAccept = undefined;
        first.kill('SIGKILL');
        await new Promise((r) => first.once('exit', r));
        resolve();
      };
    });
    const res = await s.owner
      .post('/api/messages/send')
      .set('X-Customer-Id', s.customer)
      .send({ leadId: s.lead, inboxId: inbox, subject: 'Only once', text: 'Hello.' });
    expect(res.status).toBe(202);
    await killed;
    // Recorded as sending before the hand-off; the worker died before the answer.
    expect((await status(s.t.tenant.id, res.body.id)).status).toBe('sending');

    startWorkerProcess({ databaseAppUrl: db.appUrl, taskQueue }, workers);
    const result = await client.workflow.getHandle(messageWorkflowId({ tenantId: s.t.tenant.id, messageId: res.body.id })).result();
    expect(result).toEqual({ outcome: 'uncertain' });
    const row = await status(s.t.tenant.id, res.body.id);
    expect(row.status).toBe('uncertain');
    expect(row.error).toMatch(/not sent again/);
    expect(smtp.received.filter((r) => r.envelope.to.includes('crash@lead.example'))).toHaveLength(1);
    // What the API reports: uncertain, and no conversation counts it as sent.
    const got = await s.owner.get(`/api/messages/${res.body.id}`).set('X-Customer-Id', s.customer);
    expect(got.body.status).toBe('uncertain');
    const accepted = (await withTenant(ds, s.t.tenant.id, (m) =>
      m.query("SELECT count(*)::int AS n FROM messages WHERE lead_id = $1 AND status = 'accepted'", [s.lead]),
    )) as { n: number }[];
    expect(accepted[0]!.n).toBe(0);
  });
});
