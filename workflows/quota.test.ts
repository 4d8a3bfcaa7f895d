// The monthly send quota where the work happens (db/sendQuota.ts): a free tenant
// (100 sends a month) with 160 enrolled leads sends exactly 100, with two
// workers taking slots at once; the other 60 wait without failing or polling.
// A 50-send credit pack, delivered through the signed Stripe webhook,
// releases exactly 50 more, and 10 go on waiting.
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import request from 'supertest';
import { type DataSource } from 'typeorm';
import { withTenant } from '../db/tenantContext';
import { LOCAL_PRICE_IDS } from '../lib/plans';
import { packCheckoutObject, signedDelivery, stripeEvent } from '../lib/stripeTestEvents';
import { tenantSearchAttributes } from '../services/tenantWorkflows';
import { signIn, testApp } from '../test/helpers/api';
import { createTestDatabase, openDataSource, type TestDatabase } from '../test/helpers/database';
import { addMember, createTenant, createUser } from '../test/helpers/fixtures';
import { addLeads, createCampaign, createSmtpInbox, setCampaignStatus, until } from '../test/helpers/outreach';
import { startSmtpServer, TEST_OUTBOUND, type TestSmtpServer } from '../test/helpers/smtp';
import { connectClient, projectWorkflowBundle, quietRuntime, temporalAddress, uniqueTaskQueue } from '../test/helpers/temporal';
import { createWorker } from '../worker/createWorker';
import { BILLING, type BillingInput, billingWorkflowId } from './billing.contract';

const SECRET = 'whsec_test_quota_0123456789';
let db: TestDatabase;
let ds: DataSource;
let smtp: TestSmtpServer;
let client: Client;
let clientConnection: Connection;
let apiTemporal: Connection;
const workers: { connection: NativeConnection; worker: Worker; running: Promise<void> }[] = [];

beforeAll(async () => {
  db = await createTestDatabase('quota');
  ds = await openDataSource(db.appUrl, 'tenantflow-quota-test');
  smtp = await startSmtpServer();
  ({ client, connection: clientConnection } = await connectClient());
  apiTemporal = await Connection.connect({ address: temporalAddress() });
  quietRuntime();
});

afterAll(async () => {
  for (const w of workers) {
    w.worker.shutdown();
    await w.running.catch(() => undefined);
    await w.connection.close();
  }
  await smtp?.stop();
  await apiTemporal?.close();
  await clientConnection?.close();
  await ds?.destroy();
  await db?.drop();
});

it('sends exactly the plan’s 100, then exactly the 50 a credit pack adds — never over, with two workers', async () => {
  const taskQueue = uniqueTaskQueue('quota');
  const bundle = await projectWorkflowBundle();
  for (let i = 0; i < 2; i++) {
    const connection = await NativeConnection.connect({ address: temporalAddress() });
    const worker = await createWorker({
      connection,
      namespace: 'default',
      taskQueue,
      activities: { dataSource: ds, apiUrl: 'https://api.tenantflow.example', outbound: TEST_OUTBOUND },
      workflowBundle: bundle,
    });
    workers.push({ connection, worker, running: worker.run() });
  }
  const api = testApp(ds, {
    client: new Client({ connection: apiTemporal }),
    taskQueue,
    billing: { prices: LOCAL_PRICE_IDS, webhookSecret: SECRET, localMode: false, feeBps: 0, consoleUrl: 'http://127.0.0.1:3000' },
  });
  const t = await createTenant(ds, { name: 'Quota', customers: 1 });
  const tenantId = t.tenant.id;
  const customer = `cus_quota_${tenantId.slice(-12)}`;
  await withTenant(ds, tenantId, (m) => m.query('UPDATE tenants SET stripe_customer_id = $2 WHERE id = $1', [tenantId, customer]));
  const billing = await client.workflow.start(BILLING, {
    workflowId: billingWorkflowId(tenantId),
    taskQueue,
    args: [{ tenantId, start: { plan: 'free' } } satisfies BillingInput],
    typedSearchAttributes: tenantSearchAttributes(tenantId),
  });
  const u = await createUser(ds);
  await addMember(ds, t, u, 'owner');
  const owner = await signIn(api, u.email);
  await until('free plan applied', async () => ((await owner.get('/api/billing')).body.usage?.sends.limit === 100 ? true : undefined));

  const c = t.customers[0]!.id;
  const inbox = await createSmtpInbox(owner, c, smtp.port, { dailyCap: 500 });
  const campaign = await createCampaign(owner, c, { inboxIds: [inbox] });
  const leads = Array.from({ length: 160 }, (_, i) => ({ email: `quota-${i}@lead.example`, firstName: `Lead ${i}`, company: 'Quota Co' }));
  expect((await addLeads(owner, c, campaign, leads)).added).toBe(160);
  await setCampaignStatus(owner, c, campaign, 'active');

  const waitingForQuota = async () =>
    Number(
      (
        (await withTenant(ds, tenantId, (m) => m.query("SELECT count(*)::int AS n FROM enrollments WHERE waiting_for = 'quota'"))) as {
          n: number;
        }[]
      )[0]!.n,
    );
  await until('100 sent, 60 waiting', async () => (smtp.received.length === 100 && (await waitingForQuota()) === 60 ? true : undefined), 120_000);
  await new Promise((r) => setTimeout(r, 2000));
  expect(smtp.received).toHaveLength(100);
  expect((await owner.get('/api/billing')).body.usage.sends).toEqual({ used: 100, limit: 100 });

  // A 50-send pack, through the signed webhook: exactly 50 more go out.
  const d = signedDelivery(stripeEvent('checkout.session.completed', packCheckoutObject({ customer, tenantId, pack: 'sends_50', amount: 500 })), SECRET);
  const res = await request(api.callback())
    .post('/api/webhooks/stripe')
    .set('content-type', 'application/json')
    .set('stripe-signature', d.signature)
    .send(d.body);
  expect(res.status).toBe(200);
  await until('150 sent, 10 waiting', async () => (smtp.received.length === 150 && (await waitingForQuota()) === 10 ? true : undefined), 120_000);
  await new Promise((r) => setTimeout(r, 2000));
  expect(smtp.received).toHaveLength(150);
  expect(new Set(smtp.received.map((m) => m.envelope.to[0])).size).toBe(150);
  const paidBy = (await withTenant(ds, tenantId, (m) =>
    m.query('SELECT paid_by, count(*)::int AS n FROM inbox_send_slots GROUP BY paid_by ORDER BY paid_by'),
  )) as unknown[];
  expect(paidBy).toEqual([
    { paid_by: 'credit', n: 50 },
    { paid_by: 'plan', n: 100 },
  ]);
  expect((await owner.get('/api/billing')).body.creditBalance).toBe(0);
  await billing.terminate('quota test done');
  for await (const wf of client.workflow.list({ query: `TenantId = '${tenantId}' AND ExecutionStatus = 'Running'` }))
    await client.workflow
      .getHandle(wf.workflowId)
      .terminate('quota test done')
      .catch(() => undefined);
}, 300_000);
