// Backfills through the API: platform admins only; list, start, pause,
// throttle, resume and watch a run to its finish, each change audited; bad
// input and impossible transitions write nothing and start nothing. And the
// product's use of leads.email_domain: per-domain lead stats.
import { type Client, type Connection } from '@temporalio/client';
import { type Pool } from 'pg';
import { type DataSource } from 'typeorm';
import { testApp, signIn, type Agent } from '../test/helpers/api';
import { importLegacy, ownerPool, startBackfillWorker, type RunningWorker } from '../test/helpers/backfill';
import { openDataSource } from '../test/helpers/database';
import { createTenant, createUser, type TenantFixture } from '../test/helpers/fixtures';
import { addLeads, createCampaign, createSmtpInbox, until } from '../test/helpers/outreach';
import { signedInMembers, useSuiteDatabase } from '../test/helpers/suite';
import { connectClient, uniqueTaskQueue } from '../test/helpers/temporal';

const suite = useSuiteDatabase('backfills_api', 'tenantflow-backfills-api');
let owner: DataSource;
let pool: Pool;
let client: Client;
let connection: Connection;
let worker: RunningWorker;
let admin: Agent;
let memberA: Agent;
let a: TenantFixture;
const taskQueue = uniqueTaskQueue('backfills-api');

beforeAll(async () => {
  owner = await openDataSource(suite.db.ownerUrl);
  pool = ownerPool(suite.db.ownerUrl);
  ({ client, connection } = await connectClient());
  a = await createTenant(owner, { customers: 1 });
  const b = await createTenant(owner);
  await importLegacy(pool, [a.tenant.id, b.tenant.id], 5_000);
  worker = await startBackfillWorker({ ownerUrl: suite.db.ownerUrl, taskQueue });
  const app = testApp(suite.ds, { client, backfillTaskQueue: taskQueue });
  const adminUser = await createUser(owner, { platformAdmin: true });
  admin = await signIn(app, adminUser.email);
  [memberA] = await signedInMembers(owner, app, a, ['owner']);
});

afterAll(async () => {
  await worker?.stop();
  await connection?.close();
  await pool?.end();
  await owner?.destroy();
});

const auditActions = async () =>
  (
    (await pool.query("SELECT action, actor_user_id IS NOT NULL AS by_user FROM platform_audit_log WHERE target_id = 'legacy-tenant-id' ORDER BY id")).rows as {
      action: string;
    }[]
  ).map((r) => r.action);

it('lists the declared backfills to platform admins only', async () => {
  const res = await admin.get('/api/platform/backfills');
  expect(res.status).toBe(200);
  expect(res.body.data.map((b: { name: string; scope: string; run: { status: string } }) => [b.name, b.scope, b.run.status])).toEqual([
    ['leads-email-domain', 'tenant', 'never_run'],
    ['legacy-tenant-id', 'platform', 'never_run'],
  ]);
  expect((await memberA.get('/api/platform/backfills')).status).toBe(403);
  expect((await memberA.post('/api/platform/backfills/legacy-tenant-id/start').send({})).status).toBe(403);
  expect((await admin.get('/api/platform/backfills/no-such-backfill')).status).toBe(404);
  expect((await admin.get('/api/platform/backfills/Not_A_Name')).status).toBe(404);
});

it('refuses bad input and impossible transitions without starting or recording anything', async () => {
  const bad = await admin.post('/api/platform/backfills/legacy-tenant-id/start').send({ settings: { targetBatchMs: 1 } });
  expect(bad.status).toBe(400);
  const platformWithTenant = await admin.post('/api/platform/backfills/legacy-tenant-id/start').send({ tenantId: a.tenant.id });
  expect([platformWithTenant.status, platformWithTenant.body.error.code]).toEqual([400, 'validation_failed']);
  const notRunning = await admin.post('/api/platform/backfills/legacy-tenant-id/pause').send({});
  expect([notRunning.status, notRunning.body.error.code]).toEqual([409, 'backfill_not_running']);
  const noThrottle = await admin.post('/api/platform/backfills/legacy-tenant-id/throttle').send({});
  expect(noThrottle.status).toBe(400);
  expect(await auditActions()).toEqual([]);
  expect((await admin.get('/api/platform/backfills/legacy-tenant-id')).body.run.status).toBe('never_run');
});

it('starts, pauses, throttles, resumes and finishes a run the admin watches, each step audited', async () => {
  // A quarter second between batches keeps the run going for seconds, so the
  // pause lands while it runs even on a loaded machine; the throttle below
  // takes the sleep away for the rest.
  const started = await admin.post('/api/platform/backfills/legacy-tenant-id/start').send({ settings: { targetBatchMs: 50, maxBatch: 200, sleepMs: 250 } });
  expect(started.status).toBe(202);
  expect(started.body).toEqual({ name: 'legacy-tenant-id', workflowId: 'platform/backfill/legacy-tenant-id', status: 'running' });
  const twice = await admin.post('/api/platform/backfills/legacy-tenant-id/start').send({});
  expect([twice.status, twice.body.error.code]).toEqual([409, 'backfill_running']);

  await until('some rows done', async () => ((await admin.get('/api/platform/backfills/legacy-tenant-id')).body.run.progress?.rowsDone ?? 0) > 200);
  expect((await admin.post('/api/platform/backfills/legacy-tenant-id/pause').send({})).body.signalled).toBe('pause');
  await until('paused', async () => (await admin.get('/api/platform/backfills/legacy-tenant-id')).body.run.progress?.state === 'paused');
  expect((await admin.post('/api/platform/backfills/legacy-tenant-id/throttle').send({ sleepMs: 0, targetBatchMs: 200 })).status).toBe(200);
  expect((await admin.post('/api/platform/backfills/legacy-tenant-id/resume').send({})).status).toBe(200);

  const done = await until(
    'completed',
    async () => {
      const d = (await admin.get('/api/platform/backfills/legacy-tenant-id')).body;
      return d.run.status === 'completed' ? d : undefined;
    },
    90_000,
  );
  expect(done.run.progress).toMatchObject({ state: 'completed', phase: 'done', rowsDone: 5_000, settings: { sleepMs: 0, targetBatchMs: 200 } });
  expect(done.run.progress.finish.every((f: { status: string }) => f.status === 'done')).toBe(true);
  expect(done.batches.length).toBeGreaterThan(5);
  expect(done.batches.reduce((n: number, b: { rows: number; status: string }) => n + (b.status === 'applied' ? b.rows : 0), 0)).toBe(5_000);
  expect(done.ddl.some((d: { step: string; outcome: string }) => d.step === 'not_null:tenant_id/set_not_null' && d.outcome === 'done')).toBe(true);
  expect(done.orphans).toEqual({ total: 0, rows: [] });
  expect(await auditActions()).toEqual(['backfill.start', 'backfill.pause', 'backfill.throttle', 'backfill.resume']);

  const list = await admin.get('/api/platform/backfills');
  expect(list.body.data.find((b: { name: string }) => b.name === 'legacy-tenant-id').run.status).toBe('completed');
});

it("answers the customer's leads per e-mail domain, largest first, whether or not the backfill has filled the column", async () => {
  const customerId = a.customers[0]!.id;
  const inbox = await createSmtpInbox(memberA, customerId, 2525);
  const campaign = await createCampaign(memberA, customerId, { inboxIds: [inbox] });
  await addLeads(memberA, customerId, campaign, [{ email: 'ann@Acme.example' }, { email: 'bob@acme.example' }, { email: 'cy@other.example' }]);
  // A lead from before the column existed (no email_domain) is counted by its address.
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    await c.query("SELECT set_config('app.tenant_id', $1, true)", [a.tenant.id]);
    await c.query(
      "INSERT INTO leads (tenant_id, id, customer_id, email, source) VALUES ($1, 'lead_00000000000000000000000001', $2, 'dee@acme.example', 'api')",
      [a.tenant.id, customerId],
    );
    const stored = await c.query("SELECT email, email_domain FROM leads WHERE email = 'ann@acme.example'");
    expect(stored.rows[0]).toEqual({ email: 'ann@acme.example', email_domain: 'acme.example' });
    await c.query('COMMIT');
  } finally {
    c.release();
  }
  const res = await memberA.get('/api/leads/domains').set('X-Customer-Id', customerId);
  expect(res.status).toBe(200);
  expect(res.body.data).toEqual([
    { domain: 'acme.example', leads: 3, suppressed: 0 },
    { domain: 'other.example', leads: 1, suppressed: 0 },
  ]);
  expect((await memberA.get('/api/leads/domains')).status).toBe(400);
});
