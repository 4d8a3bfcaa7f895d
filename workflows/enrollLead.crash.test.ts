// Exactly-once sending under a crash: the worker (a real process, started as
// production starts it) is killed with SIGKILL the moment the SMTP server has
// accepted step 1 — before the send (a local activity) could record the
// acceptance or its workflow task complete. A new worker replays the task and repeats the send; it finds the
// send recorded and unfinished, does not repeat it over SMTP, and the
// enrollment carries on to step 2. The SMTP server has each message exactly
// once.
import { type ChildProcess } from 'node:child_process';
import { Connection, Client } from '@temporalio/client';
import { type DataSource } from 'typeorm';
import { withTenant } from '../db/tenantContext';
import { createTestDatabase, openDataSource, type TestDatabase } from '../test/helpers/database';
import { addMember, createTenant, createUser } from '../test/helpers/fixtures';
import { signIn, testApp } from '../test/helpers/api';
import { temporalAddress, uniqueTaskQueue } from '../test/helpers/temporal';
import { addLeads, createCampaign, createSmtpInbox, setCampaignStatus } from '../test/helpers/outreach';
import { startWorkerProcess, until } from '../test/helpers/processes';
import { startSmtpServer, type TestSmtpServer } from '../test/helpers/smtp';

jest.setTimeout(180_000);

let db: TestDatabase;
let ds: DataSource;
let apiTemporal: Connection;
let smtp: TestSmtpServer;
const workers: ChildProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase('send-crash');
  ds = await openDataSource(db.appUrl, 'tenantflow-send-crash-test');
  apiTemporal = await Connection.connect({ address: temporalAddress() });
  smtp = await startSmtpServer();
});

afterAll(async () => {
  for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
  await smtp?.stop();
  await apiTemporal?.close();
  await ds?.destroy();
  await db?.drop();
});

it('never sends twice when the worker dies right after the SMTP server accepted the message', async () => {
  const taskQueue = uniqueTaskQueue('send-crash');
  const t = await createTenant(ds, { customers: 1 });
  const user = await createUser(ds);
  await addMember(ds, t, user, 'owner');
  const owner = await signIn(testApp(ds, { client: new Client({ connection: apiTemporal }), taskQueue }), user.email);
  const customerId = t.customers[0]!.id;
  const inbox = await createSmtpInbox(owner, customerId, smtp.port);
  const campaign = await createCampaign(owner, customerId, {
    inboxIds: [inbox],
    steps: [
      { subject: 'Step one for {{firstName}}', body: 'One', delayHours: 0 },
      { subject: 'Step two for {{firstName}}', body: 'Two', delayHours: 0 },
    ],
  });
  await addLeads(owner, customerId, campaign, [{ email: 'once@lead.example', firstName: 'Otto' }]);

  const first = startWorkerProcess({ databaseAppUrl: db.appUrl, taskQueue }, workers);
  const killed = new Promise<void>((resolve) => {
    smtp.onAccepted = () => {
      smtp.onAccepted = undefined;
      first.kill('SIGKILL');
      resolve();
    };
  });
  await setCampaignStatus(owner, customerId, campaign, 'active');
  await killed;
  await new Promise((r) => first.once('exit', r));
  expect(smtp.received).toHaveLength(1);

  // A new worker picks the workflow up once the dead attempt times out.
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
  expect(smtp.received.map((m) => m.parsed.subject)).toEqual(['Step one for Otto', 'Step two for Otto']);
  const messages = (await withTenant(ds, t.tenant.id, (m) =>
    m.query("SELECT step, status FROM messages WHERE campaign_id = $1 AND direction = 'outbound' ORDER BY step", [campaign]),
  )) as { step: number; status: string }[];
  // Step 1's outcome was never recorded by the dead worker: it is marked for an operator, not sent again.
  expect(messages).toEqual([
    { step: 1, status: expect.stringMatching(/^(uncertain|accepted)$/) },
    { step: 2, status: 'accepted' },
  ]);
});
