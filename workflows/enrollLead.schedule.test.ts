// Send timing on the time-skipping server, with the project's worker, the real
// database and a real SMTP server. The test moves the server's clock itself
// (it stays locked otherwise), so activities never see skipped time:
// - a three-step sequence (delays 0, 2 and 3 days) in a 09:00–17:00
//   Europe/Berlin weekday window, started on a Friday at 16:59 just before a
//   DST change: every send lands at the instant written out below;
// - 50 enrollments on one inbox capped at 20 a day: exactly 20 go out each
//   day and the rest roll over.
import { type TestWorkflowEnvironment } from '@temporalio/testing';
import { type Worker } from '@temporalio/worker';
import { type DataSource } from 'typeorm';
import { withTenant } from '../db/tenantContext';
import { createWorker } from '../worker/createWorker';
import { createTestDatabase, openDataSource, type TestDatabase } from '../test/helpers/database';
import { addMember, createTenant, createUser, type TenantFixture } from '../test/helpers/fixtures';
import { signIn, testApp, type Agent } from '../test/helpers/api';
import { createTimeSkippingEnv, projectWorkflowBundle, uniqueTaskQueue } from '../test/helpers/temporal';
import { addLeads, createCampaign, createSmtpInbox, setCampaignStatus } from '../test/helpers/outreach';
import { startSmtpServer, type TestSmtpServer, TEST_OUTBOUND } from '../test/helpers/smtp';

jest.setTimeout(240_000);

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let ds: DataSource;
let worker: Worker;
let running: Promise<void>;
let smtp: TestSmtpServer;
let t: TenantFixture;
let owner: Agent;

beforeAll(async () => {
  env = await createTimeSkippingEnv();
  db = await createTestDatabase('schedule');
  ds = await openDataSource(db.appUrl, 'tenantflow-schedule-test');
  smtp = await startSmtpServer();
  const taskQueue = uniqueTaskQueue('schedule');
  worker = await createWorker({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    activities: { dataSource: ds, outbound: TEST_OUTBOUND },
    workflowBundle: await projectWorkflowBundle(),
  });
  running = worker.run();
  t = await createTenant(ds, { customers: 2 });
  const o = await createUser(ds);
  await addMember(ds, t, o, 'owner');
  owner = await signIn(testApp(ds, { client: env.client, taskQueue }), o.email);
});

afterAll(async () => {
  worker?.shutdown();
  await running?.catch(() => undefined);
  await smtp?.stop();
  await env?.teardown();
  await ds?.destroy();
  await db?.drop();
});

const serverNow = async () => {
  const res = await env.connection.testService!.getCurrentTime({});
  return Number(res.time?.seconds ?? 0) * 1000 + Math.floor((res.time?.nanos ?? 0) / 1e6);
};
/** Moves the test server's clock to `instant` (it only moves forward). */
async function skipTo(instant: number): Promise<void> {
  await env.sleep(instant - (await serverNow()));
}

const count = async (sql: string, params: unknown[]) => Number(((await withTenant(ds, t.tenant.id, (m) => m.query(sql, params))) as { n: number }[])[0]!.n);
const sentCount = (campaign: string) =>
  count("SELECT count(*)::int AS n FROM messages WHERE campaign_id = $1 AND direction = 'outbound' AND status = 'accepted'", [campaign]);

async function poll(what: string, probe: () => Promise<boolean>, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) {
      const state = await withTenant(ds, t.tenant.id, async (m) => ({
        messages: await m.query('SELECT status, count(*)::int AS n FROM messages GROUP BY 1'),
        enrollments: await m.query('SELECT status, next_send_at, count(*)::int AS n FROM enrollments GROUP BY 1, 2'),
      }));
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(state)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
const untilSent = (campaign: string, n: number) => poll(`${n} sent`, async () => (await sentCount(campaign)) >= n);
const untilEnrollments = (campaign: string, status: string, n: number) =>
  poll(
    `${n} ${status}`,
    async () => (await count('SELECT count(*)::int AS n FROM enrollments WHERE campaign_id = $1 AND status = $2', [campaign, status])) === n,
  );
const untilWaitingFor = (campaign: string, instant: number, n: number) =>
  poll(
    `${n} waiting`,
    async () => (await count('SELECT count(*)::int AS n FROM enrollments WHERE campaign_id = $1 AND next_send_at = $2', [campaign, new Date(instant)])) === n,
  );

const lastSunday = (year: number, month: number) => {
  const last = new Date(Date.UTC(year, month + 1, 0));
  return Date.UTC(year, month, last.getUTCDate() - last.getUTCDay());
};
const DAY = 86_400_000;
const HOUR = 3_600_000;

/**
 * The first DST change in Europe/Berlin at least two days away, and the
 * instants each send must land on, written as UTC by hand: Berlin is UTC+1
 * in winter and UTC+2 in summer, and both changes happen on a Sunday.
 */
function nextDstWeekend(now: number) {
  const candidates = [];
  for (let year = new Date(now).getUTCFullYear(); candidates.length < 3; year++) {
    for (const [month, before, after] of [
      [2, 1, 2],
      [9, 2, 1],
    ] as const) {
      const sunday = lastSunday(year, month);
      const friday = sunday - 2 * DAY;
      if (friday > now + 2 * DAY) candidates.push({ friday, before, after });
    }
  }
  const { friday, before, after } = candidates.sort((x, y) => x.friday - y.friday)[0]!;
  const at = (day: number, hour: number, minute: number, offset: number) => day + hour * HOUR + minute * 60_000 - offset * HOUR;
  return {
    start: at(friday, 16, 59, before), // Friday 16:59 local, before the change
    step2: at(friday + 3 * DAY, 9, 0, after), // +2 days is Sunday: Monday 09:00 local, after the change
    step3: at(friday + 6 * DAY, 9, 0, after), // +3 days from Monday 09:00: Thursday 09:00 local
  };
}

it('sends each step at the expected instant across a weekend and a DST change', async () => {
  const expected = nextDstWeekend(await serverNow());
  const inbox = await createSmtpInbox(owner, t.customers[0]!.id, smtp.port);
  const campaign = await createCampaign(owner, t.customers[0]!.id, {
    inboxIds: [inbox],
    schedule: { timezone: 'Europe/Berlin', days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' },
    steps: [
      { subject: 'One {{firstName}}', body: 'First', delayHours: 0 },
      { subject: 'Two', body: 'Second', delayHours: 48 },
      { subject: 'Three', body: 'Third', delayHours: 72 },
    ],
  });
  await addLeads(owner, t.customers[0]!.id, campaign, [{ email: 'dst@lead.example', firstName: 'Dana' }]);
  await skipTo(expected.start);
  await setCampaignStatus(owner, t.customers[0]!.id, campaign, 'active');
  await untilSent(campaign, 1);
  // Nothing more goes out before each expected instant; at it, the next step does.
  for (const [i, instant] of [expected.step2, expected.step3].entries()) {
    await skipTo(instant - 60_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(await sentCount(campaign)).toBe(i + 1);
    await skipTo(instant);
    await untilSent(campaign, i + 2);
  }
  await untilEnrollments(campaign, 'completed', 1);
  const sends = (await withTenant(ds, t.tenant.id, (m) =>
    m.query("SELECT step, sent_at FROM messages WHERE campaign_id = $1 AND direction = 'outbound' ORDER BY step", [campaign]),
  )) as { step: number; sent_at: Date }[];
  expect(sends).toHaveLength(3);
  expect(sends[0]!.sent_at.getTime() - expected.start).toBeGreaterThanOrEqual(0);
  expect(sends[0]!.sent_at.getTime() - expected.start).toBeLessThan(60_000); // still inside Friday's window
  // The window opens on the instant; the send follows within the activities' few milliseconds.
  for (const [i, instant] of [expected.step2, expected.step3].entries()) {
    const lag = sends[i + 1]!.sent_at.getTime() - instant;
    expect(lag).toBeGreaterThanOrEqual(0);
    expect(lag).toBeLessThan(60_000);
  }
  expect(smtp.received.map((m) => m.parsed.subject)).toEqual(['One Dana', 'Two', 'Three']);
});

it('never sends more than the daily cap from one inbox: 50 enrollments at 20 a day go out 20, 20, 10', async () => {
  const customerId = t.customers[1]!.id;
  const inbox = await createSmtpInbox(owner, customerId, smtp.port, { dailyCap: 20 });
  const campaign = await createCampaign(owner, customerId, {
    inboxIds: [inbox],
    schedule: { timezone: 'UTC', days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '24:00' },
  });
  const leads = Array.from({ length: 50 }, (_, i) => ({ email: `cap-${i}@lead.example`, firstName: `Lead${i}`, company: 'Capped' }));
  expect(await addLeads(owner, customerId, campaign, leads)).toMatchObject({ added: 50 });
  // Start at 10:00 UTC on the next day, so three whole days are in view.
  await skipTo(Math.floor((await serverNow()) / DAY + 1) * DAY + 10 * HOUR);
  await setCampaignStatus(owner, customerId, campaign, 'active');
  const day1 = Math.floor((await serverNow()) / DAY) * DAY;

  // Day 1: 20 go out and 30 wait for the next day's window; then day 2, day 3.
  await untilSent(campaign, 20);
  await untilWaitingFor(campaign, day1 + DAY, 30);
  await skipTo(day1 + DAY);
  await untilSent(campaign, 40);
  await untilWaitingFor(campaign, day1 + 2 * DAY, 10);
  await skipTo(day1 + 2 * DAY);
  await untilSent(campaign, 50);
  await untilEnrollments(campaign, 'completed', 50);

  const perDay = (await withTenant(ds, t.tenant.id, (m) =>
    m.query(
      "SELECT (sent_at AT TIME ZONE 'UTC')::date::text AS day, count(*)::int AS n FROM messages WHERE campaign_id = $1 AND status = 'accepted' GROUP BY 1 ORDER BY 1",
      [campaign],
    ),
  )) as { day: string; n: number }[];
  expect(perDay.map((d) => d.n)).toEqual([20, 20, 10]);
  const days = perDay.map((d) => Date.parse(`${d.day}T00:00:00Z`));
  expect([days[1]! - days[0]!, days[2]! - days[1]!]).toEqual([DAY, DAY]);
  const slots = (await withTenant(ds, t.tenant.id, (m) =>
    m.query('SELECT day::text, count(*)::int AS n FROM inbox_send_slots WHERE inbox_id = $1 GROUP BY 1 ORDER BY 1', [inbox]),
  )) as { n: number }[];
  expect(slots.map((s) => s.n)).toEqual([20, 20, 10]);
});
