// A send's event survives the worker's death right after the send's commit
// (docs/analytics.md, "Written with the fact"): the worker (a real process,
// started as production starts it) is killed with SIGKILL the moment step 1's
// acceptance has committed — told by a NOTIFY, which PostgreSQL delivers only
// once the transaction that raised it commits — before its workflow task
// could complete. The event is there already; a new worker finishes the
// enrollment without sending or recording step 1 again, and each message
// has exactly one message.sent.
import { type ChildProcess } from 'node:child_process';
import { Connection, Client as TemporalClient } from '@temporalio/client';
import { type Client } from 'pg';
import { type DataSource } from 'typeorm';
import { withTenant } from '../db/tenantContext';
import { connect, createTestDatabase, openDataSource, type TestDatabase } from '../test/helpers/database';
import { addMember, createTenant, createUser } from '../test/helpers/fixtures';
import { signIn, testApp } from '../test/helpers/api';
import { temporalAddress, uniqueTaskQueue } from '../test/helpers/temporal';
import { addLeads, createCampaign, createSmtpInbox, setCampaignStatus } from '../test/helpers/outreach';
import { startWorkerProcess, until } from '../test/helpers/processes';
import { startSmtpServer, type TestSmtpServer } from '../test/helpers/smtp';

jest.setTimeout(180_000);

let db: TestDatabase;
let ds: DataSource;
let owner: Client;
let listener: Client;
let apiTemporal: Connection;
let smtp: TestSmtpServer;
const workers: ChildProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase('send-event-crash');
  ds = await openDataSource(db.appUrl, 'tenantflow-send-event-crash-test');
  owner = await connect(db.ownerUrl);
  listener = await connect(db.ownerUrl);
  apiTemporal = await Connection.connect({ address: temporalAddress() });
  smtp = await startSmtpServer();
});

afterAll(async () => {
  for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
  await smtp?.stop();
  await apiTemporal?.close();
  await listener?.end();
  await owner?.end();
  await ds?.destroy();
  await db?.drop();
});

it("keeps a send's event when the worker dies right after the send committed", async () => {
  const taskQueue = uniqueTaskQueue('send-event-crash');
  const t = await createTenant(ds, { customers: 1 });
  const user = await createUser(ds);
  await addMember(ds, t, user, 'owner');
  const agent = await signIn(testApp(ds, { client: new TemporalClient({ connection: apiTemporal }), taskQueue }), user.email);
  const customerId = t.customers[0]!.id;
  const inbox = await createSmtpInbox(agent, customerId, smtp.port);
  const campaign = await createCampaign(agent, customerId, {
    inboxIds: [inbox],
    steps: [
      { subject: 'Step one', body: 'One', delayHours: 0 },
      { subject: 'Step two', body: 'Two', delayHours: 0 },
    ],
  });
  await addLeads(agent, customerId, campaign, [{ email: 'kept@lead.example', firstName: 'Kay' }]);

  // The commit of a message.sent tells the listener (NOTIFY waits for the commit).
  await owner.query(`
    CREATE FUNCTION notify_sent_event() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify('message_sent', NEW.message_id);
      RETURN NULL;
    END $$`);
  await owner.query(
    "CREATE TRIGGER notify_sent_event AFTER INSERT ON analytics_events FOR EACH ROW WHEN (NEW.type = 'message.sent') EXECUTE FUNCTION notify_sent_event()",
  );
  await listener.query('LISTEN message_sent');

  const first = startWorkerProcess({ databaseAppUrl: db.appUrl, taskQueue }, workers);
  const committed = new Promise<string>((resolve) => {
    listener.once('notification', (n) => {
      first.kill('SIGKILL');
      resolve(n.payload!);
    });
  });
  await setCampaignStatus(agent, customerId, campaign, 'active');
  const messageId = await committed;
  await new Promise((r) => (first.exitCode === null ? first.once('exit', r) : r(undefined)));

  const sentEvents = () =>
    withTenant(
      ds,
      t.tenant.id,
      (m) =>
        m.query(
          `SELECT m.step, m.status, count(e.seq)::int AS events
             FROM messages m LEFT JOIN analytics_events e ON e.message_id = m.id AND e.type = 'message.sent'
            WHERE m.campaign_id = $1 AND m.direction = 'outbound' GROUP BY m.step, m.status ORDER BY m.step`,
          [campaign],
        ) as Promise<{ step: number; status: string; events: number }[]>,
    );
  // The worker is dead; what its last commit wrote is there, send and event together.
  expect((await sentEvents())[0]).toEqual({ step: 1, status: 'accepted', events: 1 });
  const [row] = (await withTenant(ds, t.tenant.id, (m) => m.query('SELECT step FROM messages WHERE id = $1', [messageId]))) as { step: number }[];
  expect(row!.step).toBe(1);

  startWorkerProcess({ databaseAppUrl: db.appUrl, taskQueue }, workers);
  const done = await until(
    'the enrollment to complete',
    async () => {
      const [e] = (await withTenant(ds, t.tenant.id, (m) => m.query('SELECT status, sent FROM enrollments WHERE campaign_id = $1', [campaign]))) as {
        status: string;
        sent: number;
      }[];
      return e?.status === 'completed' ? e : undefined;
    },
    120_000,
  );
  expect(done.sent).toBe(2);
  expect(smtp.received.map((m) => m.parsed.subject)).toEqual(['Step one', 'Step two']);
  expect(await sentEvents()).toEqual([
    { step: 1, status: 'accepted', events: 1 },
    { step: 2, status: 'accepted', events: 1 },
  ]);
});
