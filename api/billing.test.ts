// Billing through the API and both Stripe webhooks (docs/operations.md), on the
// Temporal dev server with the project's worker, stripe-mock behind a
// recording proxy (what crossed the wire, Idempotency-Key included), and
// Stripe-shaped events signed the way Stripe signs them.
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import request from 'supertest';
import { type DataSource } from 'typeorm';
import { uuidv7 } from '../db/ids';
import { withTenant } from '../db/tenantContext';
import { generateKey, parseKeyring } from '../lib/encryption';
import { LOCAL_PRICE_IDS } from '../lib/plans';
import { createStripe } from '../lib/stripe';
import { invoiceObject, packCheckoutObject, signedDelivery, stripeEvent, subscriptionObject } from '../lib/stripeTestEvents';
import { accountLookup } from '../services/billing/connect';
import { tenantSearchAttributes } from '../services/tenantWorkflows';
import { signIn, testApp, type Agent } from '../test/helpers/api';
import { createTestDatabase, openDataSource, type TestDatabase } from '../test/helpers/database';
import { addMember, createTenant, createUser, type TenantFixture } from '../test/helpers/fixtures';
import { until } from '../test/helpers/outreach';
import { startRecordingProxy, type RecordingProxy } from '../test/helpers/recordingProxy';
import { startStripeMock } from '../test/helpers/stripeMock';
import { connectClient, projectWorkflowBundle, quietRuntime, temporalAddress, uniqueTaskQueue } from '../test/helpers/temporal';
import { createWorker } from '../worker/createWorker';
import { billingWorkflowId, stateQuery } from '../workflows/billing.contract';
import { provisionTenantWorkflowId } from '../workflows/ids';
import { provisionTenant } from '../workflows/provisionTenant';

const SECRET = 'whsec_test_platform_0123456789';
const CONNECT_SECRET = 'whsec_test_connect_0123456789';
const V1 = generateKey();
const V2 = generateKey();
let db: TestDatabase;
let ds: DataSource;
let stripeMock: Awaited<ReturnType<typeof startStripeMock>>;
let proxy: RecordingProxy;
let client: Client;
let clientConnection: Connection;
let apiTemporal: Connection;
let workerConnection: NativeConnection;
let worker: Worker;
let running: Promise<void>;
let taskQueue: string;
let api: ReturnType<typeof testApp>;
let a: TenantFixture;
let b: TenantFixture;
let ownerA: Agent;
let ownerB: Agent;
let admin: Agent;
let ownerAEmail: string;
const customerOf: Record<string, string> = {};
const others: TenantFixture[] = [];

const stripe = () => createStripe({ secretKey: 'sk_test_billing', apiBase: proxy.url })!;
const billingDeps = (over: object = {}) => ({
  stripe: stripe(),
  prices: LOCAL_PRICE_IDS,
  webhookSecret: SECRET,
  connectWebhookSecret: CONNECT_SECRET,
  localMode: false,
  feeBps: 250,
  consoleUrl: 'http://127.0.0.1:3000',
  ...over,
});

beforeAll(async () => {
  db = await createTestDatabase('billing');
  ds = await openDataSource(db.appUrl, 'tenantflow-billing-test');
  stripeMock = await startStripeMock();
  proxy = await startRecordingProxy(stripeMock.apiBase);
  ({ client, connection: clientConnection } = await connectClient());
  apiTemporal = await Connection.connect({ address: temporalAddress() });
  taskQueue = uniqueTaskQueue('billing');
  quietRuntime();
  workerConnection = await NativeConnection.connect({ address: temporalAddress() });
  worker = await createWorker({
    connection: workerConnection,
    namespace: 'default',
    taskQueue,
    activities: { dataSource: ds, stripe: stripe() },
    workflowBundle: await projectWorkflowBundle(),
  });
  running = worker.run();
  api = testApp(ds, { client: new Client({ connection: apiTemporal }), taskQueue, keyring: parseKeyring(`v1:${V1}`, 'v1'), billing: billingDeps() });
  a = await createTenant(ds, { name: 'Billing A', customers: 2 });
  b = await createTenant(ds, { name: 'Billing B', customers: 1 });
  const [oa, ob, pa] = [await createUser(ds), await createUser(ds), await createUser(ds, { platformAdmin: true })];
  await addMember(ds, a, oa, 'owner');
  await addMember(ds, b, ob, 'owner');
  ownerAEmail = oa.email;
  ownerA = await signIn(api, oa.email);
  ownerB = await signIn(api, ob.email);
  admin = await signIn(api, pa.email);
  // Each tenant's Stripe customer, as provisioning records it.
  for (const t of [a, b]) {
    customerOf[t.tenant.id] = `cus_test_${t.tenant.id.slice(-12)}`;
    await withTenant(ds, t.tenant.id, (m) => m.query('UPDATE tenants SET stripe_customer_id = $2 WHERE id = $1', [t.tenant.id, customerOf[t.tenant.id]]));
  }
});

afterAll(async () => {
  for (const t of [a, b, ...others])
    await client.workflow
      .getHandle(billingWorkflowId(t.tenant.id))
      .terminate('billing test done')
      .catch(() => undefined);
  worker?.shutdown();
  await running?.catch(() => undefined);
  await workerConnection?.close();
  await apiTemporal?.close();
  await clientConnection?.close();
  await proxy?.stop();
  await stripeMock?.stop();
  await ds?.destroy();
  await db?.drop();
});

const deliver = (event: object, opts: { secret?: string; timestamp?: number; path?: string } = {}) => {
  const d = signedDelivery(event, opts.secret ?? SECRET, opts.timestamp);
  return request(api.callback())
    .post(opts.path ?? '/api/webhooks/stripe')
    .set('content-type', 'application/json')
    .set('stripe-signature', d.signature)
    .send(d.body);
};
const count = async (sql: string, params: unknown[] = []) => Number(((await ds.query(sql, params)) as { n: number }[])[0]!.n);
const eventRows = () => count('SELECT count(*)::int AS n FROM webhook_events');
const inTenant = <T>(t: TenantFixture, sql: string, params: unknown[] = []) => withTenant(ds, t.tenant.id, (m) => m.query(sql, params) as Promise<T>);
const balance = async (t: TenantFixture) =>
  (await inTenant<{ credit_balance: number }[]>(t, 'SELECT credit_balance FROM billing_accounts'))[0]?.credit_balance ?? 0;
const workflowState = (t: TenantFixture) => client.workflow.getHandle(billingWorkflowId(t.tenant.id)).query(stateQuery);
/** A tenant of its own (features on, as fixtures are), with an owner and a Stripe customer. */
async function freshTenant(label: string): Promise<{ t: TenantFixture; owner: Agent }> {
  const t = await createTenant(ds, { name: `Billing ${label}`, customers: 1 });
  const u = await createUser(ds);
  await addMember(ds, t, u, 'owner');
  customerOf[t.tenant.id] = `cus_test_${t.tenant.id.slice(-12)}`;
  await withTenant(ds, t.tenant.id, (m) => m.query('UPDATE tenants SET stripe_customer_id = $2 WHERE id = $1', [t.tenant.id, customerOf[t.tenant.id]]));
  others.push(t);
  return { t, owner: await signIn(api, u.email) };
}
const DAY = 86_400_000;
const subscriptionEvent = (
  t: TenantFixture,
  type: 'created' | 'updated' | 'deleted',
  fields: { subscriptionId: string; status: 'active' | 'past_due' | 'canceled'; plan: 'starter' | 'pro'; created: number; periodStart?: number },
) => {
  const periodStart = fields.periodStart ?? Date.now();
  return stripeEvent(
    `customer.subscription.${type}`,
    subscriptionObject({ customer: customerOf[t.tenant.id]!, prices: LOCAL_PRICE_IDS, periodStart, periodEnd: periodStart + 30 * DAY, ...fields }),
    { created: fields.created },
  );
};
const entitlement = async (t: TenantFixture, key: string) =>
  (await inTenant<{ enabled: boolean; limit_value: number | null }[]>(t, 'SELECT enabled, limit_value FROM entitlements WHERE key = $1', [key]))[0];
const pack = (t: TenantFixture, id?: string) =>
  stripeEvent('checkout.session.completed', packCheckoutObject({ customer: customerOf[t.tenant.id]!, tenantId: t.tenant.id, pack: 'sends_50', amount: 500 }), {
    id,
  });

describe('the Stripe webhook', () => {
  it('refuses a bad signature or a timestamp older than 300 s with 400, and stores nothing', async () => {
    const before = await eventRows();
    const bad = await deliver(pack(a), { secret: 'whsec_not_ours_0123456789' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_signature');
    const old = await deliver(pack(a), { timestamp: Math.floor(Date.now() / 1000) - 301 });
    expect(old.status).toBe(400);
    const unsigned = await request(api.callback())
      .post('/api/webhooks/stripe')
      .set('content-type', 'application/json')
      .send(JSON.stringify(pack(a)));
    expect(unsigned.status).toBe(400);
    expect(await eventRows()).toBe(before);
    expect(await balance(a)).toBe(0);
  });

  it('refuses a signature dated more than 300 s ahead on both endpoints, and stores nothing', async () => {
    const before = await eventRows();
    const ahead = (s: number) => Math.floor(Date.now() / 1000) + s;
    for (const s of [400, 301]) {
      const res = await deliver(pack(a), { timestamp: ahead(s) });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_signature');
      const connect = await deliver(stripeEvent('account.updated', { id: 'acct_future' }, { account: 'acct_future' }), {
        path: '/api/webhooks/stripe-connect',
        secret: CONNECT_SECRET,
        timestamp: ahead(s),
      });
      expect(connect.status).toBe(400);
      expect(connect.body.error.code).toBe('invalid_signature');
    }
    expect(await eventRows()).toBe(before);
    expect(await balance(a)).toBe(0);
    // Within the tolerance ahead (a clock a little fast) is still accepted.
    const near = await deliver(stripeEvent('account.updated', { id: 'acct_near' }, { account: 'acct_near' }), {
      path: '/api/webhooks/stripe-connect',
      secret: CONNECT_SECRET,
      timestamp: ahead(60),
    });
    expect(near.status).toBe(200);
    expect(await eventRows()).toBe(before + 1);
  });

  it('credits a pack exactly once: twice in a row, 10 at once, and a redelivery later', async () => {
    const event = pack(a, `evt_pack_${Date.now()}`);
    const first = await deliver(event);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ duplicate: false, status: 'processed' });
    const again = await deliver(event);
    expect(again.body).toMatchObject({ duplicate: true });
    await until('credited', async () => ((await balance(a)) === 50 ? true : undefined));

    const concurrent = pack(a, `evt_pack_concurrent_${Date.now()}`);
    const answers = await Promise.all(Array.from({ length: 10 }, () => deliver(concurrent)));
    expect(answers.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(answers.filter((r) => r.body.duplicate === false)).toHaveLength(1);
    await until('credited once more', async () => ((await balance(a)) === 100 ? true : undefined));
    // Days later Stripe delivers it again (a fresh signature): still nothing.
    const later = await deliver(concurrent, { timestamp: Math.floor(Date.now() / 1000) + 5 });
    expect(later.body.duplicate).toBe(true);
    await new Promise((r) => setTimeout(r, 500));
    expect(await balance(a)).toBe(100);
    expect(await inTenant<{ n: number }[]>(a, 'SELECT count(*)::int AS n FROM credit_grants')).toEqual([{ n: 2 }]);
    expect(await balance(b)).toBe(0);
    const shown = await ownerA.get('/api/billing');
    expect(shown.status).toBe(200);
    expect(shown.body.creditBalance).toBe(100);
    // Each grant is in the tenant's audit log.
    const audited = await ownerA.get('/api/audit?limit=100');
    expect(audited.status).toBe(200);
    expect((audited.body.data as { action: string }[]).filter((e) => e.action === 'billing.credits_granted')).toHaveLength(2);
  });

  it('lets the newer subscription state stand when updates arrive out of order', async () => {
    const now = Date.now();
    const sub = {
      customer: customerOf[a.tenant.id]!,
      subscriptionId: 'sub_order_a',
      plan: 'starter' as const,
      prices: LOCAL_PRICE_IDS,
      periodStart: now,
      periodEnd: now + 30 * 86_400_000,
    };
    const t = Math.floor(now / 1000);
    const newer = stripeEvent('customer.subscription.updated', subscriptionObject({ ...sub, status: 'active' }), { created: t + 10 });
    const older = stripeEvent('customer.subscription.updated', subscriptionObject({ ...sub, status: 'past_due' }), { created: t });
    expect((await deliver(newer)).status).toBe(200);
    expect((await deliver(older)).status).toBe(200);
    await until('both applied', async () => {
      const s = await workflowState(a);
      return s.eventsApplied + s.eventsIgnored >= 2 ? s : undefined;
    });
    expect(await workflowState(a)).toMatchObject({ status: 'active', plan: 'starter', eventsIgnored: 1 });
    await until('row active', async () => ((await ownerA.get('/api/billing')).body.status === 'active' ? true : undefined));
  });

  it('changes only the tenant whose Stripe customer the event names, whatever else the payload says', async () => {
    const beforeB = await ownerB.get('/api/billing');
    // A's customer, with B named in the metadata: only A is credited.
    const mixed = stripeEvent('checkout.session.completed', {
      ...packCheckoutObject({ customer: customerOf[a.tenant.id]!, tenantId: b.tenant.id, pack: 'sends_50', amount: 500 }),
      client_reference_id: b.tenant.id,
    });
    const before = await balance(a);
    expect((await deliver(mixed)).status).toBe(200);
    await until('A credited', async () => ((await balance(a)) === before + 50 ? true : undefined));
    expect(await balance(b)).toBe(0);
    expect((await ownerB.get('/api/billing')).body).toEqual(beforeB.body);
  });

  it('keeps an event no tenant owns as a dead letter, which an operator replays once the customer is known', async () => {
    const stranger = `cus_unknown_${Date.now()}`;
    const event = stripeEvent('checkout.session.completed', packCheckoutObject({ customer: stranger, tenantId: b.tenant.id, pack: 'sends_50', amount: 500 }));
    const res = await deliver(event);
    expect(res.body).toMatchObject({ status: 'dead_letter' });
    expect(await balance(b)).toBe(0);
    const dead = await admin.get('/api/platform/webhook-events');
    const row = (dead.body.data as { id: string; eventId: string; source: string }[]).find((e) => e.eventId === event.id)!;
    expect(row.source).toBe('stripe');
    await withTenant(ds, b.tenant.id, (m) => m.query('UPDATE tenants SET stripe_customer_id = $2 WHERE id = $1', [b.tenant.id, stranger]));
    customerOf[b.tenant.id] = stranger;
    const replayed = await admin.post(`/api/platform/webhook-events/${row.id}/replay`);
    expect(replayed.body).toMatchObject({ status: 'processed' });
    await until('B credited', async () => ((await balance(b)) === 50 ? true : undefined));
  });
});

describe('credit packs', () => {
  it('credit once per Checkout Session, whichever of its events comes, and only once it is paid', async () => {
    const { t } = await freshTenant('packs');
    const session = packCheckoutObject({ customer: customerOf[t.tenant.id]!, tenantId: t.tenant.id, pack: 'sends_50', amount: 500 });
    // Two different events about one paid session (a completion and an async success, or a resend under a new id).
    expect((await deliver(stripeEvent('checkout.session.completed', session))).body).toMatchObject({ status: 'processed', duplicate: false });
    expect((await deliver(stripeEvent('checkout.session.async_payment_succeeded', session))).body).toMatchObject({ duplicate: false });
    expect((await deliver(stripeEvent('checkout.session.completed', session))).body).toMatchObject({ duplicate: false });
    await until('credited', async () => ((await balance(t)) === 50 ? true : undefined));
    await until('all three seen', async () => ((await workflowState(t)).creditEvents === 3 ? true : undefined));
    await new Promise((r) => setTimeout(r, 300));
    expect(await balance(t)).toBe(50);
    expect(await inTenant(t, 'SELECT count(*)::int AS n FROM credit_grants')).toEqual([{ n: 1 }]);

    // A session completed unpaid (a delayed payment method) credits nothing until Stripe says it is paid.
    const delayed = {
      ...packCheckoutObject({ customer: customerOf[t.tenant.id]!, tenantId: t.tenant.id, pack: 'sends_50', amount: 500 }),
      payment_status: 'unpaid',
    };
    expect((await deliver(stripeEvent('checkout.session.completed', delayed))).body).toMatchObject({ status: 'processed' });
    expect((await deliver(stripeEvent('checkout.session.async_payment_failed', delayed))).body).toMatchObject({ status: 'processed' });
    await new Promise((r) => setTimeout(r, 500));
    expect(await balance(t)).toBe(50);
    expect(await inTenant(t, 'SELECT count(*)::int AS n FROM credit_grants')).toEqual([{ n: 1 }]);
    await deliver(stripeEvent('checkout.session.async_payment_succeeded', { ...delayed, payment_status: 'paid' }));
    await until('credited when paid', async () => ((await balance(t)) === 100 ? true : undefined));
    expect(await inTenant(t, 'SELECT count(*)::int AS n FROM credit_grants')).toEqual([{ n: 2 }]);
  });
});

describe('the subscription the workflow follows', () => {
  it('ignores a deletion or a failed invoice of another subscription of the same customer', async () => {
    const { t, owner } = await freshTenant('follow');
    const at = Math.floor(Date.now() / 1000);
    await deliver(subscriptionEvent(t, 'created', { subscriptionId: 'sub_follow_kept', status: 'active', plan: 'starter', created: at }));
    await until('active', async () => ((await owner.get('/api/billing')).body.entitledPlan === 'starter' ? true : undefined));

    // Another subscription of the same customer is deleted, and one of its invoices fails.
    const other = await deliver(subscriptionEvent(t, 'deleted', { subscriptionId: 'sub_follow_other', status: 'canceled', plan: 'pro', created: at + 5 }));
    expect(other.body).toMatchObject({ status: 'processed' });
    await deliver(
      stripeEvent(
        'invoice.payment_failed',
        { id: 'in_follow_other', customer: customerOf[t.tenant.id], subscription: 'sub_follow_other' },
        { created: at + 6 },
      ),
    );
    await until('both seen', async () => ((await workflowState(t)).eventsIgnored === 2 ? true : undefined));
    expect(await workflowState(t)).toMatchObject({ status: 'active', subscriptionId: 'sub_follow_kept', plan: 'starter', pastDueSince: null });
    const [row] = await inTenant<{ status: string; stripe_subscription_id: string }[]>(t, 'SELECT status, stripe_subscription_id FROM billing_accounts');
    expect(row).toEqual({ status: 'active', stripe_subscription_id: 'sub_follow_kept' });

    // The followed one's deletion still cancels it.
    await deliver(subscriptionEvent(t, 'deleted', { subscriptionId: 'sub_follow_kept', status: 'canceled', plan: 'starter', created: at + 10 }));
    await until('canceled', async () => ((await workflowState(t)).status === 'canceled' ? true : undefined));
  });
});

describe('paid, not asked', () => {
  it('keeps the paid plan while an upgrade is past_due, entitles the new plan once paid, and changes the subscription instead of a second checkout', async () => {
    const { t, owner } = await freshTenant('upgrade');
    const at = Math.floor(Date.now() / 1000);
    const sub = 'sub_upgrade_1';
    await deliver(subscriptionEvent(t, 'created', { subscriptionId: sub, status: 'active', plan: 'starter', created: at }));
    await until('starter', async () => ((await owner.get('/api/billing')).body.entitledPlan === 'starter' ? true : undefined));

    // Switched to Pro with a declined card: Stripe moves the subscription to Pro, past_due.
    await deliver(subscriptionEvent(t, 'updated', { subscriptionId: sub, status: 'past_due', plan: 'pro', created: at + 5 }));
    await until('past_due', async () => ((await workflowState(t)).status === 'past_due' ? true : undefined));
    expect(await workflowState(t)).toMatchObject({ plan: 'pro', entitledPlan: 'starter', paidPlan: 'starter' });
    await until('row past_due', async () => ((await owner.get('/api/billing')).body.status === 'past_due' ? true : undefined));
    const shown = (await owner.get('/api/billing')).body;
    expect(shown).toMatchObject({ plan: 'pro', entitledPlan: 'starter', usage: { sends: { limit: 2000 }, inboxes: { limit: 5 } } });
    expect(await entitlement(t, 'campaigns')).toEqual({ enabled: true, limit_value: 20 });

    // An old Starter invoice paid meanwhile pays for Starter, not for the Pro upgrade.
    const starterPaid = invoiceObject({
      customer: customerOf[t.tenant.id]!,
      subscriptionId: sub,
      periodStart: Date.now(),
      periodEnd: Date.now() + 30 * DAY,
      amount: 4900,
      price: LOCAL_PRICE_IDS.starter,
    });
    await deliver(stripeEvent('invoice.paid', starterPaid, { created: at + 7 }));
    await until('starter invoice applied', async () => ((await workflowState(t)).status === 'active' ? true : undefined));
    expect(await workflowState(t)).toMatchObject({ plan: 'pro', paidPlan: 'starter', entitledPlan: 'starter' });
    // Stripe applying the change as active without an invoice is no payment either.
    await deliver(subscriptionEvent(t, 'updated', { subscriptionId: sub, status: 'active', plan: 'pro', created: at + 8 }));
    await until('update applied', async () => ((await workflowState(t)).statusEventAt === (at + 8) * 1000 ? true : undefined));
    expect(await workflowState(t)).toMatchObject({ plan: 'pro', paidPlan: 'starter', entitledPlan: 'starter' });
    expect((await owner.get('/api/billing')).body).toMatchObject({ entitledPlan: 'starter', usage: { sends: { limit: 2000 } } });

    // The Pro invoice is paid: now Pro.
    const paid = invoiceObject({
      customer: customerOf[t.tenant.id]!,
      subscriptionId: sub,
      periodStart: Date.now(),
      periodEnd: Date.now() + 30 * DAY,
      amount: 19900,
      price: LOCAL_PRICE_IDS.pro,
    });
    await deliver(stripeEvent('invoice.paid', paid, { created: at + 10 }));
    await until('pro', async () => ((await owner.get('/api/billing')).body.entitledPlan === 'pro' ? true : undefined));
    expect((await owner.get('/api/billing')).body).toMatchObject({ status: 'active', usage: { sends: { limit: 20000 } } });

    // Asking for another plan now changes this subscription, as a pending update
    // that Stripe applies only once its invoice is paid; never a second checkout.
    const from = proxy.requests.length;
    const change = await owner.post('/api/billing/checkout').send({ plan: 'starter' });
    expect(change.status).toBe(200);
    expect(change.body.url).toMatch(/^https?:\/\//);
    const sent = proxy.requests.slice(from);
    expect(sent.filter((r) => r.path.startsWith('/v1/checkout/sessions'))).toHaveLength(0);
    expect(sent.some((r) => r.method === 'GET' && r.path === `/v1/subscriptions/${sub}`)).toBe(true);
    const update = sent.find((r) => r.method === 'POST' && r.path === `/v1/subscriptions/${sub}`)!;
    const form = decodeURIComponent(update.body);
    expect(form).toContain('payment_behavior=pending_if_incomplete');
    expect(form).toContain('proration_behavior=always_invoice');
    expect(form).toContain(`[price]=${LOCAL_PRICE_IDS.starter}`);
    expect(update.idempotencyKey).toMatch(new RegExp(`^tenant/${t.tenant.id}/billing/plan-change/starter/`));
    const same = await owner.post('/api/billing/checkout').send({ plan: 'pro' });
    expect(same.status).toBe(409);
    expect(same.body.error.code).toBe('plan_unchanged');
    expect(proxy.requests.slice(from).filter((r) => r.path.startsWith('/v1/checkout/sessions'))).toHaveLength(0);
  });
});

describe('plan features', () => {
  it('answer 402 plan_feature_required naming the feature and write nothing; invoices issued before a downgrade are still paid', async () => {
    const { t, owner } = await freshTenant('features');
    const c = t.customers[0]!.id;
    // Issued while the plan included client billing (the fixture has every feature on).
    const issued = await owner
      .post('/api/client-billing/invoices')
      .set('X-Customer-Id', c)
      .send({ currency: 'eur', lines: [{ description: 'Before the downgrade', amountCents: 10000, quantity: 1 }] });
    expect(issued.status).toBe(201);
    const account = `acct_downgrade_${t.tenant.id.slice(-8)}`;
    await ds.query('INSERT INTO connect_account_routes (account_lookup, routed_tenant_id) VALUES ($1, $2)', [accountLookup(account), t.tenant.id]);

    // The billing workflow applies the free plan (no client billing).
    await deliver(stripeEvent('invoice.payment_failed', { id: 'in_features', customer: customerOf[t.tenant.id], subscription: null }));
    await until('free features', async () => ((await entitlement(t, 'client_billing'))?.enabled === false ? true : undefined));

    const counts = async () => ({
      invoices: Number((await inTenant<{ n: number }[]>(t, 'SELECT count(*)::int AS n FROM client_invoices'))[0]!.n),
      accounts: Number((await inTenant<{ n: number }[]>(t, 'SELECT count(*)::int AS n FROM connect_accounts'))[0]!.n),
    });
    const before = await counts();
    const from = proxy.requests.length;
    const refused = [
      await owner.post('/api/client-billing/connect/start'),
      await owner
        .post('/api/client-billing/invoices')
        .set('X-Customer-Id', c)
        .send({ lines: [{ description: 'After', amountCents: 500 }] }),
      await owner.post(`/api/client-billing/invoices/${issued.body.id}/checkout`).set('X-Customer-Id', c),
    ];
    for (const res of refused) {
      expect(res.status).toBe(402);
      expect(res.body.error).toMatchObject({ code: 'plan_feature_required', details: { feature: 'client_billing' } });
    }
    expect(await counts()).toEqual(before);
    expect(proxy.requests.length).toBe(from);
    // What was issued stays readable, and its payment still applies.
    expect((await owner.get('/api/client-billing/invoices').set('X-Customer-Id', c)).status).toBe(200);
    const paid = stripeEvent(
      'checkout.session.completed',
      { id: 'cs_downgrade', payment_intent: 'pi_downgrade', metadata: { invoice_id: issued.body.id } },
      { account },
    );
    expect((await deliver(paid, { path: '/api/webhooks/stripe-connect', secret: CONNECT_SECRET })).body).toMatchObject({ status: 'processed' });
    expect((await owner.get('/api/client-billing/invoices').set('X-Customer-Id', c)).body.data[0].status).toBe('paid');

    // A missing entitlement row fails closed.
    await withTenant(ds, t.tenant.id, (m) => m.query("DELETE FROM entitlements WHERE key = 'email_outreach'"));
    const inbox = await owner.post('/api/inboxes').set('X-Customer-Id', c).send({ provider: 'smartlead', fromEmail: 'gated@features.example', dailyCap: 10 });
    expect(inbox.status).toBe(402);
    expect(inbox.body.error).toMatchObject({ code: 'plan_feature_required', details: { feature: 'email_outreach' } });
    expect(await inTenant(t, 'SELECT count(*)::int AS n FROM inboxes')).toEqual([{ n: 0 }]);
  });

  it('are documented: 402 on every gated operation, with the feature named', async () => {
    const doc = (await request(api.callback()).get('/api/openapi.json')).body;
    const createInvoice = doc.paths['/api/client-billing/invoices'].post;
    expect(createInvoice['x-plan-feature']).toBe('client_billing');
    expect(createInvoice.responses['402'].description).toMatch(/plan_feature_required/);
    const createInbox = doc.paths['/api/inboxes'].post;
    expect(createInbox.responses['402'].description).toMatch(/plan_feature_required.*plan_limit_reached|plan_limit_reached.*plan_feature_required/);
    expect(doc.paths['/api/client-billing/invoices'].get.responses['402']).toBeUndefined();
  });
});

describe('checkout and the portal', () => {
  it('answer Stripe URLs, and every Stripe call that creates something carries a deterministic Idempotency-Key', async () => {
    // A tenant that does not subscribe yet (A does: it gets the portal's change of plan instead).
    const { t, owner } = await freshTenant('checkout');
    const from = proxy.requests.length;
    const checkout = await owner.post('/api/billing/checkout').send({ plan: 'pro' });
    expect(checkout.status).toBe(200);
    expect(checkout.body.url).toMatch(/^https:\/\//);
    const again = await owner.post('/api/billing/checkout').send({ plan: 'pro' });
    expect(again.status).toBe(200);
    expect((await owner.post('/api/billing/credit-packs/checkout').send({ pack: 'sends_1000' })).status).toBe(200);
    expect((await owner.post('/api/billing/portal')).status).toBe(200);
    const sent = proxy.requests.slice(from).filter((r) => r.method === 'POST');
    expect(sent.map((r) => r.path)).toEqual(['/v1/checkout/sessions', '/v1/checkout/sessions', '/v1/checkout/sessions', '/v1/billing_portal/sessions']);
    for (const r of sent) expect(r.idempotencyKey).toMatch(new RegExp(`^tenant/${t.tenant.id}/billing/`));
    // The same request asked twice is the same session at Stripe.
    expect(sent[0]!.idempotencyKey).toBe(sent[1]!.idempotencyKey);
    expect(sent[0]!.body).toContain(`line_items[0][price]=${LOCAL_PRICE_IDS.pro}`);
    expect(sent[0]!.body).toContain(`customer=${customerOf[t.tenant.id]}`);
  });

  it('a retried provisioning activity sends the same key after Stripe already created the customer', async () => {
    const tenantId = uuidv7();
    const n = tenantId.slice(-8);
    await ds.query(
      `INSERT INTO tenants (id, slug, name, status, external_customer_id, industry, registration_hash, owner_email, owner_name)
       VALUES ($1, $2, $3, 'provisioning', $4, 'agency', 'test', $5, 'Owner')`,
      [tenantId, `idem-${n}`, `Idem ${n}`, `idem-${n}`, `owner-${n}@example.test`],
    );
    // Stripe creates the customer, but the answer never arrives — three times, so the SDK gives up and the activity is retried.
    proxy.dropAnswers((r) => r.path === '/v1/customers', 3);
    const from = proxy.requests.length;
    const workflowId = provisionTenantWorkflowId({ tenantId });
    await client.workflow.execute(provisionTenant, { workflowId, taskQueue, args: [{ tenantId }], typedSearchAttributes: tenantSearchAttributes(tenantId) });
    const creates = proxy.requests.slice(from).filter((r) => r.method === 'POST' && r.path === '/v1/customers');
    expect(creates.length).toBeGreaterThanOrEqual(4);
    expect(new Set(creates.map((r) => r.idempotencyKey))).toEqual(new Set([`tenant/${tenantId}/provision/stripe-customer`]));
    await client.workflow
      .getHandle(billingWorkflowId(tenantId))
      .terminate('done')
      .catch(() => undefined);
  });
});

describe('plan limits', () => {
  it('answer 402 plan_limit_reached naming the limit, and write nothing', async () => {
    // Tenant B is on the free plan (its billing workflow applied the free limits).
    await until('free limits', async () => ((await ownerB.get('/api/billing')).body.usage?.inboxes.limit === 1 ? true : undefined));
    const c = b.customers[0]!.id;
    const inbox = (email: string) => ownerB.post('/api/inboxes').set('X-Customer-Id', c).send({ provider: 'smartlead', fromEmail: email, dailyCap: 10 });
    expect((await inbox('one@b.example')).status).toBe(201);
    const over = await inbox('two@b.example');
    expect(over.status).toBe(402);
    expect(over.body.error).toMatchObject({ code: 'plan_limit_reached', details: { limit: 'inboxes', max: 1 } });
    expect(await inTenant(b, 'SELECT count(*)::int AS n FROM inboxes')).toEqual([{ n: 1 }]);

    const inboxId = (await ownerB.get('/api/inboxes').set('X-Customer-Id', c)).body.data[0].id as string;
    const campaign = (name: string) =>
      ownerB
        .post('/api/campaigns')
        .set('X-Customer-Id', c)
        .send({ name, inboxIds: [inboxId], schedule: { timezone: 'UTC', days: [1], start: '09:00', end: '17:00' } });
    expect((await campaign('One')).status).toBe(201);
    expect((await campaign('Two')).status).toBe(201);
    const third = await campaign('Three');
    expect(third.status).toBe(402);
    expect(third.body.error.details.limit).toBe('campaigns');
    expect(await inTenant(b, 'SELECT count(*)::int AS n FROM campaigns')).toEqual([{ n: 2 }]);

    const roles = (await ownerB.get('/api/roles')).body.data as { id: string; key: string }[];
    const viewer = roles.find((r) => r.key === 'viewer')!.id;
    const invite = (email: string) => ownerB.post('/api/members').send({ email, name: 'Seat', roleId: viewer });
    expect((await invite(`seat-${Date.now()}@b.example`)).status).toBe(202); // owner + 1 = 2 seats
    const seat = await invite(`seat-over-${Date.now()}@b.example`);
    expect(seat.status).toBe(402);
    expect(seat.body.error.details.limit).toBe('seats');
    const usage = (await ownerB.get('/api/billing')).body.usage;
    expect(usage).toMatchObject({ inboxes: { used: 1, limit: 1 }, campaigns: { used: 2, limit: 2 }, seats: { used: 2, limit: 2 } });
  });
});

describe('client billing through Stripe Connect', () => {
  it('stores the account id sealed with its key id, re-seals it under a rotated key, and checks out on its behalf with the fee', async () => {
    const from = proxy.requests.length;
    const start = await ownerA.post('/api/client-billing/connect/start');
    expect(start.status).toBe(200);
    expect(start.body.url).toMatch(/^https:\/\//);
    const created = proxy.requests.slice(from).find((r) => r.path === '/v1/accounts')!;
    expect(created.idempotencyKey).toBe(`tenant/${a.tenant.id}/connect/account`);
    expect(created.body).toContain('type=express');
    const [row] = await inTenant<{ account_ciphertext: string; account_key_id: string }[]>(
      a,
      'SELECT account_ciphertext, account_key_id FROM connect_accounts',
    );
    expect(row!.account_key_id).toBe('v1');
    expect(row!.account_ciphertext).not.toMatch(/acct_/);
    // Starting again makes no second account.
    expect((await ownerA.post('/api/client-billing/connect/start')).status).toBe(200);
    expect(proxy.requests.slice(from).filter((r) => r.path === '/v1/accounts')).toHaveLength(1);

    const c = a.customers[0]!.id;
    const inv = await ownerA
      .post('/api/client-billing/invoices')
      .set('X-Customer-Id', c)
      .send({ currency: 'eur', lines: [{ description: 'Campaign management', amountCents: 40000, quantity: 1 }] });
    expect(inv.status).toBe(201);
    expect(inv.body).toMatchObject({ status: 'draft', amountTotal: 40000, applicationFee: 1000 });

    // Rotation: v2 becomes current; using the account re-seals it.
    const rotated = testApp(ds, {
      client: new Client({ connection: apiTemporal }),
      taskQueue,
      keyring: parseKeyring(`v1:${V1},v2:${V2}`, 'v2'),
      billing: billingDeps(),
    });
    const ownerRotated = await signIn(rotated, ownerAEmail);
    const before = proxy.requests.length;
    const checkout = await ownerRotated.post(`/api/client-billing/invoices/${inv.body.id}/checkout`).set('X-Customer-Id', c);
    expect(checkout.status).toBe(200);
    expect(checkout.body).toMatchObject({ status: 'open' });
    const [resealed] = await inTenant<{ account_ciphertext: string; account_key_id: string }[]>(
      a,
      'SELECT account_ciphertext, account_key_id FROM connect_accounts',
    );
    expect(resealed!.account_key_id).toBe('v2');
    expect(resealed!.account_ciphertext).not.toBe(row!.account_ciphertext);
    const session = proxy.requests.slice(before).find((r) => r.path === '/v1/checkout/sessions')!;
    const accountId = /payment_intent_data\[on_behalf_of\]=(acct_[A-Za-z0-9]+)/.exec(session.body)?.[1];
    expect(accountId).toBeDefined();
    expect(session.body).toContain(`payment_intent_data[transfer_data][destination]=${accountId}`);
    expect(session.body).toContain('payment_intent_data[application_fee_amount]=1000');
    expect(session.idempotencyKey).toBe(`tenant/${a.tenant.id}/client-invoice/${inv.body.id}/checkout/first`);

    // The Connect webhook (its own secret) pays the invoice, then refunds it; a late success does not undo the refund.
    const connectEvent = (type: string, object: Record<string, unknown>) => stripeEvent(type, object, { account: accountId });
    const paid = connectEvent('checkout.session.completed', {
      id: 'cs_x',
      payment_intent: 'pi_x',
      metadata: { tenant_id: b.tenant.id, invoice_id: inv.body.id },
    });
    expect((await deliver(paid, { path: '/api/webhooks/stripe-connect' })).status).toBe(400); // the platform secret is not the Connect one
    expect((await deliver(paid, { path: '/api/webhooks/stripe-connect', secret: CONNECT_SECRET })).body).toMatchObject({ status: 'processed' });
    const list = async () => (await ownerA.get('/api/client-billing/invoices').set('X-Customer-Id', c)).body.data[0].status as string;
    expect(await list()).toBe('paid');
    await deliver(connectEvent('charge.refunded', { id: 'ch_x', payment_intent: 'pi_x' }), { path: '/api/webhooks/stripe-connect', secret: CONNECT_SECRET });
    await deliver(connectEvent('payment_intent.succeeded', { id: 'pi_x', metadata: { invoice_id: inv.body.id } }), {
      path: '/api/webhooks/stripe-connect',
      secret: CONNECT_SECRET,
    });
    expect(await list()).toBe('refunded');

    await deliver(connectEvent('account.updated', { id: accountId, details_submitted: true, charges_enabled: true, payouts_enabled: false }), {
      path: '/api/webhooks/stripe-connect',
      secret: CONNECT_SECRET,
    });
    expect((await ownerA.get('/api/client-billing/connect/status')).body).toMatchObject({
      connected: true,
      details_submitted: true,
      charges_enabled: true,
      payouts_enabled: false,
    });
    expect((await ownerB.get('/api/client-billing/connect/status')).body).toMatchObject({ connected: false, details_submitted: false });

    // Deauthorized: new checkouts are refused with a clear error.
    await deliver(connectEvent('account.application.deauthorized', { id: 'ca_x' }), { path: '/api/webhooks/stripe-connect', secret: CONNECT_SECRET });
    const inv2 = await ownerA
      .post('/api/client-billing/invoices')
      .set('X-Customer-Id', c)
      .send({ lines: [{ description: 'More work', amountCents: 5000 }] });
    const refused = await ownerRotated.post(`/api/client-billing/invoices/${inv2.body.id}/checkout`).set('X-Customer-Id', c);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('connect_deauthorized');
    expect(await count('SELECT count(*)::int AS n FROM connect_account_routes WHERE account_lookup = $1', [accountLookup(accountId!)])).toBe(1);
  });

  it('only the owner starts Connect', async () => {
    const member = await createUser(ds);
    await addMember(ds, a, member, 'admin');
    const agent = await signIn(api, member.email);
    expect((await agent.post('/api/client-billing/connect/start')).status).toBe(403);
  });
});

describe('local test mode', () => {
  it('completes an upgrade and a credit pack through the real webhook endpoint', async () => {
    const local = testApp(ds, { client: new Client({ connection: apiTemporal }), taskQueue, billing: billingDeps({ localMode: true }) });
    const t = await createTenant(ds, { name: 'Local mode', customers: 1 });
    const u = await createUser(ds);
    await addMember(ds, t, u, 'owner');
    const owner = await signIn(local, u.email);
    const checkout = await owner.post('/api/billing/checkout').send({ plan: 'pro' });
    expect(checkout.body.url).toMatch(/\/billing\/local-checkout\?plan=pro$/);
    const done = await owner.post('/api/billing/local-checkout').send({ plan: 'pro' });
    expect(done.status).toBe(200);
    expect(done.body.delivered).toBe(2);
    await until('pro active', async () => {
      const s = (await owner.get('/api/billing')).body;
      return s.status === 'active' && s.entitledPlan === 'pro' && s.usage.sends.limit === 20000 ? s : undefined;
    });
    expect((await owner.post('/api/billing/local-checkout').send({ pack: 'sends_1000' })).body.delivered).toBe(1);
    await until('credits', async () => ((await owner.get('/api/billing')).body.creditBalance === 1000 ? true : undefined));
    // Outside local mode the page does not exist.
    expect((await ownerA.post('/api/billing/local-checkout').send({ plan: 'pro' })).status).toBe(404);
    await client.workflow
      .getHandle(billingWorkflowId(t.tenant.id))
      .terminate('done')
      .catch(() => undefined);
  });

  it('stands in for Connect onboarding and an invoice checkout, finishing both through the real Connect endpoint', async () => {
    const local = testApp(ds, {
      client: new Client({ connection: apiTemporal }),
      taskQueue,
      keyring: parseKeyring(`v1:${V1}`, 'v1'),
      billing: billingDeps({ localMode: true }),
    });
    const t = await createTenant(ds, { name: 'Local client billing', customers: 1 });
    const u = await createUser(ds);
    await addMember(ds, t, u, 'owner');
    const owner = await signIn(local, u.email);
    const c = t.customers[0]!.id;

    const start = await owner.post('/api/client-billing/connect/start');
    expect(start.body.url).toBe('http://127.0.0.1:3000/accounting/client-billing/local-onboarding');
    expect((await owner.post('/api/client-billing/connect/local-onboarding')).body).toEqual({ delivered: 1 });
    expect((await owner.get('/api/client-billing/connect/status')).body).toMatchObject({ connected: true, charges_enabled: true, payouts_enabled: true });

    const inv = await owner
      .post('/api/client-billing/invoices')
      .set('X-Customer-Id', c)
      .send({ currency: 'eur', lines: [{ description: 'Local work', amountCents: 5000, quantity: 1 }] });
    // Paying needs an open checkout.
    const early = await owner.post(`/api/client-billing/invoices/${inv.body.id}/local-checkout`).set('X-Customer-Id', c);
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('invoice_not_open');
    const checkout = await owner.post(`/api/client-billing/invoices/${inv.body.id}/checkout`).set('X-Customer-Id', c);
    expect(checkout.body.checkoutUrl).toBe(`http://127.0.0.1:3000/accounting/client-billing/local-checkout?customer=${c}&invoice=${inv.body.id}`);
    expect((await owner.post(`/api/client-billing/invoices/${inv.body.id}/local-checkout`).set('X-Customer-Id', c)).body).toEqual({ delivered: 1 });
    const [paid] = await inTenant<{ status: string; payment_intent_id: string }[]>(t, 'SELECT status, payment_intent_id FROM client_invoices WHERE id = $1', [
      inv.body.id,
    ]);
    expect(paid).toMatchObject({ status: 'paid', payment_intent_id: expect.stringMatching(/^pi_local_/) });

    // Outside local mode neither stand-in exists, and nothing changes.
    const invA = await ownerA
      .post('/api/client-billing/invoices')
      .set('X-Customer-Id', a.customers[0]!.id)
      .send({ currency: 'eur', lines: [{ description: 'Real mode', amountCents: 5000, quantity: 1 }] });
    const events = await eventRows();
    expect((await ownerA.post('/api/client-billing/connect/local-onboarding')).status).toBe(404);
    expect((await ownerA.post(`/api/client-billing/invoices/${invA.body.id}/local-checkout`).set('X-Customer-Id', a.customers[0]!.id)).status).toBe(404);
    expect(await eventRows()).toBe(events);
    const [unpaid] = await inTenant<{ status: string }[]>(a, 'SELECT status FROM client_invoices WHERE id = $1', [invA.body.id]);
    expect(unpaid!.status).toBe('draft');
  });
});
