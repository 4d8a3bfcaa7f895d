// The billing lifecycle on the time-skipping test server (docs/operations.md,
// "Billing"), with the
// project's real activities, a real PostgreSQL and a real SMTP server: days
// pass in seconds. Stripe events are signalled the way the webhook signals
// them (already verified and reduced).
//
// 1. trial → active → a payment fails → past_due, the owner reminded on days
//    1, 3 and 7, the paid plan kept while its period lasts → paid within the
//    grace → active.
// 2. never paid → restricted once the grace ends → an enrollment waits
//    (nothing sent) → paid → it sends by itself.
import { type TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { type DataSource } from 'typeorm';
import { createActivities } from '../activities';
import { withTenant } from '../db/tenantContext';
import { smtpPlatformMailer } from '../lib/platformMail';
import { signIn, testApp } from '../test/helpers/api';
import { createTestDatabase, openDataSource, type TestDatabase } from '../test/helpers/database';
import { addMember, createTenant, createUser, type TenantFixture } from '../test/helpers/fixtures';
import { addLeads, createCampaign, createSmtpInbox, setCampaignStatus, until } from '../test/helpers/outreach';
import { startSmtpServer, TEST_OUTBOUND, type TestSmtpServer } from '../test/helpers/smtp';
import { createTimeSkippingEnv, projectWorkflowBundle, uniqueTaskQueue } from '../test/helpers/temporal';
import { BILLING, type BillingEvent, type BillingInput, billingWorkflowId, stateQuery, stripeEventSignal } from './billing.contract';
import { TenantIdSearchAttribute } from './searchAttributes';

const DAY = 86_400_000;
let env: TestWorkflowEnvironment;
let db: TestDatabase;
let ds: DataSource;
let smtp: TestSmtpServer;
let worker: Worker;
let running: Promise<void>;
let taskQueue: string;

beforeAll(async () => {
  env = await createTimeSkippingEnv();
  db = await createTestDatabase('billing-lifecycle');
  ds = await openDataSource(db.appUrl, 'tenantflow-billing-lifecycle');
  smtp = await startSmtpServer();
  taskQueue = uniqueTaskQueue('billing-lifecycle');
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await projectWorkflowBundle(),
    activities: createActivities({
      dataSource: ds,
      outbound: TEST_OUTBOUND,
      apiUrl: 'https://api.tenantflow.example',
      mailer: smtpPlatformMailer({ url: `smtp://127.0.0.1:${smtp.port}`, from: 'Tenantflow <billing@tenantflow.example>' }),
      consoleUrl: 'https://console.tenantflow.example',
    }),
  });
  running = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await running?.catch(() => undefined);
  await smtp?.stop();
  await env?.teardown();
  await ds?.destroy();
  await db?.drop();
});

async function tenantWithOwner(label: string): Promise<{ t: TenantFixture; ownerEmail: string }> {
  const t = await createTenant(ds, { name: `Lifecycle ${label}`, customers: 1 });
  const owner = await createUser(ds);
  await addMember(ds, t, owner, 'owner');
  await withTenant(ds, t.tenant.id, (m) => m.query('UPDATE tenants SET owner_email = $2 WHERE id = $1', [t.tenant.id, owner.email]));
  return { t, ownerEmail: owner.email };
}

async function startBilling(tenantId: string, start: BillingInput['start']) {
  return env.client.workflow.start(BILLING, {
    workflowId: billingWorkflowId(tenantId),
    taskQueue,
    args: [{ tenantId, start } satisfies BillingInput],
    typedSearchAttributes: [{ key: TenantIdSearchAttribute, value: tenantId }],
  });
}

const account = (tenantId: string) =>
  withTenant(ds, tenantId, async (m) => {
    const [row] = (await m.query('SELECT plan, status, entitled_plan, restricted, credit_balance FROM billing_accounts')) as {
      plan: string;
      status: string;
      entitled_plan: string;
      restricted: boolean;
    }[];
    const [sends] = (await m.query("SELECT limit_value FROM entitlements WHERE key = 'monthly_sends'")) as { limit_value: number }[];
    return { ...row, monthlySends: sends?.limit_value };
  });

let seq = 0;
const event = <T extends BillingEvent['type']>(type: T, fields: object, at = Date.now()) =>
  ({ id: `evt_life_${++seq}`, created: at, type, ...fields }) as unknown as BillingEvent;
const remindersTo = (to: string) => smtp.received.filter((m) => m.envelope.to.includes(to) && /reminder/.test(m.raw));

it('trial → active → payment fails → past_due with reminders on days 1, 3, 7 (plan kept while paid) → paid in grace → active', async () => {
  const { t, ownerEmail } = await tenantWithOwner('dunning');
  const tenantId = t.tenant.id;
  const handle = await startBilling(tenantId, { plan: 'starter', trialDays: 14 });
  const state = () => handle.query(stateQuery);

  expect((await state()).status).toBe('trialing');
  await until('trial applied', async () => ((await account(tenantId))?.entitled_plan === 'starter' ? true : undefined));
  expect(await account(tenantId)).toMatchObject({ status: 'trialing', entitled_plan: 'starter', monthlySends: 2000 });

  // The tenant subscribes during the trial: active, paid for 30 days.
  const now = await env.currentTimeMs();
  const sub = { subscriptionId: 'sub_life_1', plan: 'pro', periodStart: now, trialEnd: null };
  await handle.signal(stripeEventSignal, event('subscription', { ...sub, status: 'active', periodEnd: now + 30 * DAY }, now));
  await until('active', async () => ((await state()).status === 'active' ? true : undefined));
  await until('pro applied', async () => ((await account(tenantId))?.entitled_plan === 'pro' ? true : undefined));

  // A payment fails mid-period (an upgrade's prorated invoice, say): past_due, but the period is paid.
  await handle.signal(stripeEventSignal, event('invoice_failed', { subscriptionId: 'sub_life_1' }, now + 1000));
  await until('past_due', async () => ((await state()).status === 'past_due' ? true : undefined));
  expect(remindersTo(ownerEmail)).toHaveLength(0);

  await env.sleep('1 day');
  await until('day 1 reminder', async () => (remindersTo(ownerEmail).length === 1 ? true : undefined));
  await env.sleep('2 days');
  await until('day 3 reminder', async () => (remindersTo(ownerEmail).length === 2 ? true : undefined));
  await env.sleep('4 days');
  await until('day 7 reminder', async () => (remindersTo(ownerEmail).length === 3 ? true : undefined));
  expect(remindersTo(ownerEmail).map((m) => /day (\d+)/.exec(m.raw)?.[1])).toEqual(['1', '3', '7']);
  // Entitlements during past_due stay until the paid period ends.
  expect(await account(tenantId)).toMatchObject({ status: 'past_due', entitled_plan: 'pro', restricted: false, monthlySends: 20000 });

  // Paid within the grace: active again, no more reminders.
  await handle.signal(stripeEventSignal, event('invoice_paid', { subscriptionId: 'sub_life_1', periodEnd: now + 30 * DAY }, now + 8 * DAY));
  await until('active again', async () => ((await state()).status === 'active' ? true : undefined));
  await env.sleep('10 days');
  expect(remindersTo(ownerEmail)).toHaveLength(3);
  await until('row active', async () => ((await account(tenantId))?.status === 'active' ? true : undefined));
  expect(await account(tenantId)).toMatchObject({ entitled_plan: 'pro', restricted: false });

  // An older event delivered late does not overwrite the newer state.
  await handle.signal(stripeEventSignal, event('subscription', { ...sub, status: 'past_due', periodEnd: now + 30 * DAY }, now + 500));
  await env.sleep('1 minute');
  expect((await state()).status).toBe('active');
  expect((await state()).eventsIgnored).toBe(1);

  // The paid period ends without a renewal after a cancellation: the plan falls back to free.
  await handle.signal(stripeEventSignal, event('subscription', { ...sub, status: 'canceled', periodEnd: now + 30 * DAY }, now + 20 * DAY));
  await until('canceled', async () => ((await state()).status === 'canceled' ? true : undefined));
  expect((await state()).entitledPlan).toBe('pro');
  await env.sleep('13 days');
  await until('free after the paid period', async () => ((await account(tenantId))?.entitled_plan === 'free' ? true : undefined));
  expect(await account(tenantId)).toMatchObject({ status: 'canceled', monthlySends: 100 });
});

it('never paid → restricted after the grace → enrollments wait, nothing sent → paid → they send by themselves', async () => {
  const { t } = await tenantWithOwner('restricted');
  const tenantId = t.tenant.id;
  const handle = await startBilling(tenantId, { plan: 'free' });
  const state = () => handle.query(stateQuery);
  await until('free applied', async () => ((await account(tenantId))?.monthlySends === 100 ? true : undefined));

  // A subscription whose first invoice never gets paid.
  const now = await env.currentTimeMs();
  const sub = { subscriptionId: 'sub_life_2', plan: 'starter', periodStart: now, periodEnd: now + 30 * DAY, trialEnd: null };
  await handle.signal(stripeEventSignal, event('subscription', { ...sub, status: 'past_due' }, now));
  await until('past_due', async () => ((await state()).status === 'past_due' ? true : undefined));
  expect((await state()).entitledPlan).toBe('free');
  await env.sleep('10 days');
  await until('restricted', async () => ((await account(tenantId))?.restricted ? true : undefined));
  expect(await account(tenantId)).toMatchObject({ status: 'unpaid', restricted: true });

  // A campaign starts while restricted: its enrollment waits and sends nothing.
  const api = testApp(ds, { client: env.client, taskQueue });
  const ownerUser = await createUser(ds);
  await addMember(ds, t, ownerUser, 'owner');
  const owner = await signIn(api, ownerUser.email);
  const c = t.customers[0]!.id;
  const inbox = await createSmtpInbox(owner, c, smtp.port);
  const campaign = await createCampaign(owner, c, { inboxIds: [inbox] });
  const lead = `restricted-${Date.now()}@lead.example`;
  await addLeads(owner, c, campaign, [{ email: lead, firstName: 'Rae', company: 'Waiting Co' }]);
  await setCampaignStatus(owner, c, campaign, 'active');
  const waiting = () =>
    withTenant(
      ds,
      tenantId,
      (m) => m.query('SELECT waiting_for FROM enrollments WHERE campaign_id = $1', [campaign]) as Promise<{ waiting_for: string | null }[]>,
    );
  await until('enrollment waits', async () => ((await waiting())[0]?.waiting_for === 'restricted' ? true : undefined));
  await env.sleep('2 days');
  expect(smtp.received.filter((m) => m.envelope.to.includes(lead))).toHaveLength(0);

  // Paid: the restriction lifts and the enrollment sends without anyone touching it.
  await handle.signal(stripeEventSignal, event('invoice_paid', { subscriptionId: 'sub_life_2', periodEnd: now + 30 * DAY }, now + 12 * DAY));
  await until('sent after payment', async () => (smtp.received.some((m) => m.envelope.to.includes(lead)) ? true : undefined));
  expect(await account(tenantId)).toMatchObject({ status: 'active', restricted: false, entitled_plan: 'starter' });
  expect((await waiting())[0]?.waiting_for).toBeNull();
});
