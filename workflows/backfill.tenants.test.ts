// A tenant-scoped backfill (leads.email_domain): one child per tenant, tagged
// TenantId, at most `parallelism` at once; one tenant whose rows keep failing
// fails alone and visibly while the others complete, and the table-wide
// finish waits until every tenant is done.
import { type Client, type Connection } from '@temporalio/client';
import { type Pool } from 'pg';
import { type DataSource } from 'typeorm';
import { TenantIdSearchAttribute } from './searchAttributes';
import { insertLegacyLeads, ownerPool, progressOf, startBackfill, startBackfillWorker, type RunningWorker } from '../test/helpers/backfill';
import { createTestDatabase, openDataSource, type TestDatabase } from '../test/helpers/database';
import { createTenant } from '../test/helpers/fixtures';
import { connectClient, uniqueTaskQueue } from '../test/helpers/temporal';
import { platformBackfillWorkflowId, tenantBackfillWorkflowId } from './backfill.contract';

const NAME = 'leads-email-domain';
const LEADS = 1_500;
let client: Client;
let connection: Connection;
let db: TestDatabase;
let owner: DataSource;
let pool: Pool;
let worker: RunningWorker;
const tenants: string[] = [];

beforeAll(async () => {
  ({ client, connection } = await connectClient());
  db = await createTestDatabase('bf_tenants');
  owner = await openDataSource(db.ownerUrl);
  pool = ownerPool(db.ownerUrl);
  for (let i = 0; i < 5; i++) {
    const t = await createTenant(owner, { customers: 1 });
    tenants.push(t.tenant.id);
    await insertLegacyLeads(pool, t.tenant.id, t.customers[0]!.id, LEADS);
  }
});

afterAll(async () => {
  await worker?.stop();
  await pool?.end();
  await owner?.destroy();
  await db?.drop();
  await connection?.close();
});

it('runs one child per tenant with at most 2 at once; a failing tenant fails alone and visibly, and the finish waits for it', async () => {
  const taskQueue = uniqueTaskQueue('backfill-tenants');
  worker = await startBackfillWorker({ ownerUrl: db.ownerUrl, taskQueue });
  // The third tenant's leads refuse every update (a stand-in for a row the derivation breaks on).
  const failing = tenants[2]!;
  await pool.query(`CREATE FUNCTION refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
      IF NEW.tenant_id = '${failing}'::uuid THEN RAISE EXCEPTION 'refused for the test'; END IF; RETURN NEW; END $$`);
  await pool.query('CREATE TRIGGER refuse_update BEFORE UPDATE ON leads FOR EACH ROW EXECUTE FUNCTION refuse_update()');

  const handle = await startBackfill(client, taskQueue, NAME, {
    settings: { parallelism: 2, sleepMs: 30, maxBatch: 150, initialBatch: 100, failureThreshold: 3, batchAttempts: 2 },
  });
  const end = await handle.result();
  expect(end.state).toBe('failed');
  expect(end.error).toContain(failing);
  const byTenant = new Map(end.children.map((c) => [c.tenantId, c]));
  expect(byTenant.get(failing)).toMatchObject({ state: 'failed', error: expect.stringContaining('refused for the test') });
  for (const t of tenants.filter((x) => x !== failing)) expect(byTenant.get(t)).toMatchObject({ state: 'completed', rowsDone: LEADS, failures: 0 });
  expect(end.finish.every((f) => f.status === 'waiting')).toBe(true);

  // Each child is the tenant's own workflow, tagged with it; never more than 2 ran at once.
  const spans: [number, number][] = [];
  for (const t of tenants) {
    const d = await client.workflow.getHandle(tenantBackfillWorkflowId(t, NAME)).describe();
    expect(d.typedSearchAttributes.get(TenantIdSearchAttribute)).toBe(t);
    spans.push([d.startTime.getTime(), d.closeTime!.getTime()]);
  }
  const overlap = Math.max(...spans.map(([s]) => spans.filter(([a, b]) => a <= s && s < b).length));
  expect(overlap).toBeLessThanOrEqual(2);
  expect(overlap).toBe(2);

  // The others' rows are filled, the failing tenant's are not, and the column is still nullable.
  const filled = await pool.query(`SELECT tenant_id::text AS t, count(*) FILTER (WHERE email_domain IS NOT NULL)::int AS filled FROM leads GROUP BY 1`);
  expect(filled.rows).toHaveLength(0); // FORCE RLS: the owner sees nothing without a tenant context
  const c = await pool.connect();
  try {
    for (const t of tenants) {
      await c.query('BEGIN');
      await c.query("SELECT set_config('app.tenant_id', $1, true)", [t]);
      const r = await c.query("SELECT count(*) FILTER (WHERE email_domain = 'mail' || (substring(id from 6)::int % 4) || '.example')::int AS n FROM leads");
      await c.query('COMMIT');
      expect([t, r.rows[0].n]).toEqual([t, t === failing ? 0 : LEADS]);
    }
  } finally {
    c.release();
  }
  expect((await pool.query("SELECT attnotnull FROM pg_attribute WHERE attrelid = 'leads'::regclass AND attname = 'email_domain'")).rows[0].attnotnull).toBe(
    false,
  );

  // Fixed, the backfill runs again: the done tenants have nothing left, the failing one catches up, and the finish goes on.
  await pool.query('DROP TRIGGER refuse_update ON leads');
  const again = await startBackfill(client, taskQueue, NAME, { settings: { parallelism: 2 } });
  const done = await again.result();
  expect(done).toMatchObject({ state: 'completed', phase: 'done', rowsDone: LEADS });
  expect((await progressOf(again)).finish.map((f) => [f.step, f.status])).toEqual([
    ['not_null:email_domain', 'done'],
    ['index:leads_email_domain_idx', 'done'],
  ]);
  const schema = await pool.query(`
    SELECT (SELECT attnotnull FROM pg_attribute WHERE attrelid = 'leads'::regclass AND attname = 'email_domain') AS not_null,
           (SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('leads_email_domain_idx')) AS index_valid`);
  expect(schema.rows[0]).toEqual({ not_null: true, index_valid: true });
  expect(again.workflowId.startsWith(platformBackfillWorkflowId(NAME))).toBe(true);
});
