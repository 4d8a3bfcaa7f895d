// A send of the old plan that finds its enrollment moved to a newer sequence
// version answers replan; when an earlier attempt of that step is stuck
// mid-SMTP (its slot taken, its message recorded as sending), the retry
// settles that message as uncertain first: it is counted as a send, never
// sent again, and not left sending under a plan that has moved on. Through
// the real send activity, a real database and a real SMTP conversation whose
// reply to the message is held, as for a worker that died mid-send.
import { type AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerDataStream } from 'smtp-server';
import { type DataSource } from 'typeorm';
import { moveRunningToVersion } from '../db/enrollments';
import { withTenant } from '../db/tenantContext';
import { until } from '../lib/until';
import { signIn, testApp, type Agent } from '../test/helpers/api';
import { createTestDatabase, openDataSource, type TestDatabase } from '../test/helpers/database';
import { addMember, createTenant, createUser, type TenantFixture } from '../test/helpers/fixtures';
import { addLeads, createCampaign, createSmtpInbox } from '../test/helpers/outreach';
import { TEST_OUTBOUND } from '../test/helpers/smtp';
import { createEnrollLeadActivities } from './enrollLead';

type Reply = (err?: Error | null) => void;

let db: TestDatabase;
let ds: DataSource;
let t: TenantFixture;
let owner: Agent;
let smtp: SMTPServer;
let port: number;
/** Messages the SMTP server took the whole of (accepted or held). */
let received = 0;
/** While set, the reply to a message is held: the sender waits mid-send. */
let hold = false;
const held: Reply[] = [];
/** The attempt left stuck mid-send, ended (its reply refused) before the database closes. */
let stuck: Promise<unknown> | undefined;

beforeAll(async () => {
  db = await createTestDatabase('send-replan');
  ds = await openDataSource(db.appUrl, 'tenantflow-send-replan-test');
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream: SMTPServerDataStream, _session, reply: Reply) {
      stream.resume();
      stream.on('end', () => {
        received += 1;
        if (hold) held.push(reply);
        else reply();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', () => resolve()));
  port = (smtp as unknown as { server: { address(): AddressInfo } }).server.address().port;
  t = await createTenant(ds, { customers: 1 });
  const user = await createUser(ds);
  await addMember(ds, t, user, 'owner');
  owner = await signIn(testApp(ds), user.email);
});

afterAll(async () => {
  for (const reply of held.splice(0)) reply(new Error('closing'));
  await stuck;
  await new Promise<void>((resolve) => smtp?.close(() => resolve()));
  await ds?.destroy();
  await db?.drop();
});

it('settles a send stuck mid-SMTP as uncertain before it replans, and never sends it again', async () => {
  const customerId = t.customers[0]!.id;
  const inbox = await createSmtpInbox(owner, customerId, port);
  const campaign = await createCampaign(owner, customerId, {
    inboxIds: [inbox],
    steps: [
      { subject: 'v1 first', body: 'One', delayHours: 0 },
      { subject: 'v1 second', body: 'Two', delayHours: 0 },
    ],
  });
  await addLeads(owner, customerId, campaign, [{ email: 'rae@lead.example', firstName: 'Rae' }]);
  const [rows] = (await withTenant(ds, t.tenant.id, (m) =>
    m.query("UPDATE enrollments SET status = 'active', sequence_version = 1 WHERE campaign_id = $1 RETURNING id", [campaign]),
  )) as [{ id: string }[], number];
  const enrollmentId = rows[0]!.id;
  const activities = createEnrollLeadActivities({ dataSource: ds, outbound: TEST_OUTBOUND });
  const send = (step: number) => activities.reserveAndSendStep({ tenantId: t.tenant.id, enrollmentId, step, at: Date.now(), sequenceVersion: 1 });
  const message = async (step: number) =>
    (
      (await withTenant(ds, t.tenant.id, (m) =>
        m.query("SELECT status FROM messages WHERE enrollment_id = $1 AND step = $2 AND direction = 'outbound'", [enrollmentId, step]),
      )) as { status: string }[]
    )[0]?.status;
  const sent = async () =>
    ((await withTenant(ds, t.tenant.id, (m) => m.query('SELECT sent FROM enrollments WHERE id = $1', [enrollmentId]))) as { sent: number }[])[0]!.sent;

  expect(await send(1)).toEqual({ outcome: 'sent' });
  expect(received).toBe(1);

  // Step 2 takes its slot, records its message and is stuck in the SMTP
  // conversation: the message has gone over the wire, the reply never comes.
  hold = true;
  stuck = send(2).catch((err: Error) => err);
  await until('step 2 stuck mid-send', async () => held.length === 1);
  expect(await message(2)).toBe('sending');
  expect(await sent()).toBe(1);

  // Meanwhile the campaign takes version 2, which has no step 2, and the row moves to it.
  const v2 = await owner
    .post(`/api/campaigns/${campaign}/sequence`)
    .set('X-Customer-Id', customerId)
    .send({ steps: [{ subject: 'v2 only', body: 'Only', delayHours: 0 }] });
  expect(v2.body.version).toBe(2);
  expect(await withTenant(ds, t.tenant.id, (m) => moveRunningToVersion(m, campaign, 2))).toHaveLength(1);

  // The retry of step 2 on the old plan replans, and settles what the stuck attempt left.
  expect(await send(2)).toEqual({ outcome: 'replan' });
  expect(await message(2)).toBe('uncertain');
  expect(await sent()).toBe(2);
  expect(received).toBe(2);
  // Asked again, it stays settled and counted once; SMTP sees nothing more.
  expect(await send(2)).toEqual({ outcome: 'replan' });
  expect(await sent()).toBe(2);
  expect(received).toBe(2);
});

it('takes no slot and no send of the month for a step whose enrollment has ended without its workflow being told', async () => {
  const customerId = t.customers[0]!.id;
  const inbox = await createSmtpInbox(owner, customerId, port);
  const campaign = await createCampaign(owner, customerId, {
    inboxIds: [inbox],
    steps: [
      { subject: 'First', body: 'One', delayHours: 0 },
      { subject: 'Second', body: 'Two', delayHours: 0 },
    ],
  });
  await addLeads(owner, customerId, campaign, [{ email: 'ended@lead.example', firstName: 'Eda' }]);
  const [rows] = (await withTenant(ds, t.tenant.id, (m) =>
    m.query("UPDATE enrollments SET status = 'active', sequence_version = 1 WHERE campaign_id = $1 RETURNING id", [campaign]),
  )) as [{ id: string }[], number];
  const enrollmentId = rows[0]!.id;
  hold = false;
  const activities = createEnrollLeadActivities({ dataSource: ds, outbound: TEST_OUTBOUND });
  const send = (step: number) => activities.reserveAndSendStep({ tenantId: t.tenant.id, enrollmentId, step, at: Date.now(), sequenceVersion: 1 });
  const usage = async () =>
    withTenant(ds, t.tenant.id, async (m) => {
      const [b] = (await m.query('SELECT period_sends, credit_balance FROM billing_accounts')) as { period_sends: number; credit_balance: number }[];
      const [s] = (await m.query('SELECT count(*)::int AS n FROM inbox_send_slots WHERE inbox_id = $1', [inbox])) as { n: number }[];
      return { periodSends: b?.period_sends ?? 0, credits: b?.credit_balance ?? 0, slots: s!.n };
    });

  expect(await send(1)).toEqual({ outcome: 'sent' });
  const before = await usage();
  expect(before.slots).toBe(1);
  // A reply read from the mailbox ended the row; its signal was lost (the reader's attempt died after its commit).
  await withTenant(ds, t.tenant.id, (m) => m.query("UPDATE enrollments SET status = 'replied', next_send_at = NULL WHERE id = $1", [enrollmentId]));
  const smtpBefore = received;
  expect(await send(2)).toEqual({ outcome: 'not_active' });
  expect(await usage()).toEqual(before);
  expect(received).toBe(smtpBefore);
});
