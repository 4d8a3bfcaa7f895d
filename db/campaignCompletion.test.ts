// A campaign completes when its last running enrollment ends (a deferred
// trigger, checked at commit). Two endings that overlap still complete it
// whichever commits first, and an open transaction that has ended one
// enrollment no longer holds up another enrollment's ending in the same
// campaign (a reply webhook's transaction waits on Temporal before it
// commits; every reply to the campaign used to queue behind it).
import { type Client } from 'pg';
import { type DataSource } from 'typeorm';
import { newId } from './ids';
import { withTenant } from './tenantContext';
import { connect, createTestDatabase, openDataSource, type TestDatabase } from '../test/helpers/database';
import { createTenant, type TenantFixture } from '../test/helpers/fixtures';

let db: TestDatabase;
let app: DataSource;
let t: TenantFixture;
let one: Client;
let two: Client;

beforeAll(async () => {
  db = await createTestDatabase('completion');
  app = await openDataSource(db.appUrl);
  t = await createTenant(app, { customers: 1 });
  one = await connect(db.appUrl);
  two = await connect(db.appUrl);
});

afterAll(async () => {
  await one?.end();
  await two?.end();
  await app?.destroy();
  await db?.drop();
});

/** An active campaign with `n` active enrollments; returns its id and the enrollments' ids. */
async function activeCampaign(n: number): Promise<{ campaign: string; enrollments: string[] }> {
  const customer = t.customers[0]!.id;
  return withTenant(app, t.tenant.id, async (m) => {
    const campaign = newId('cmp');
    await m.query(
      `INSERT INTO campaigns (tenant_id, id, customer_id, name, status, timezone, days, window_start, window_end)
       VALUES ($1, $2, $3, 'Completion', 'active', 'UTC', '{1,2,3,4,5}', '09:00', '17:00')`,
      [t.tenant.id, campaign, customer],
    );
    const enrollments: string[] = [];
    for (let i = 0; i < n; i++) {
      const lead = newId('lead');
      await m.query("INSERT INTO leads (tenant_id, id, customer_id, email, source) VALUES ($1, $2, $3, $4, 'api')", [
        t.tenant.id,
        lead,
        customer,
        `done-${campaign.slice(-8)}-${i}@lead.example`,
      ]);
      const e = newId('enr');
      await m.query("INSERT INTO enrollments (tenant_id, id, customer_id, campaign_id, lead_id, status) VALUES ($1, $2, $3, $4, $5, 'active')", [
        t.tenant.id,
        e,
        customer,
        campaign,
        lead,
      ]);
      enrollments.push(e);
    }
    return { campaign, enrollments };
  });
}

const campaignStatus = async (campaign: string) =>
  ((await withTenant(app, t.tenant.id, (m) => m.query('SELECT status FROM campaigns WHERE id = $1', [campaign]))) as { status: string }[])[0]!.status;

async function endInOpenTransaction(c: Client, enrollment: string, status: string): Promise<void> {
  await c.query('BEGIN');
  await c.query("SELECT set_config('app.tenant_id', $1, true)", [t.tenant.id]);
  await c.query('UPDATE enrollments SET status = $2 WHERE id = $1', [enrollment, status]);
}

it.each([
  ['the first to end commits first', [0, 1]],
  ['the last to end commits first', [1, 0]],
])('two overlapping endings complete the campaign (%s)', async (_, order) => {
  const { campaign, enrollments } = await activeCampaign(2);
  await endInOpenTransaction(one, enrollments[0]!, 'replied');
  await endInOpenTransaction(two, enrollments[1]!, 'completed');
  const clients = [one, two];
  await clients[order[0]!]!.query('COMMIT');
  expect(await campaignStatus(campaign)).toBe('active');
  await clients[order[1]!]!.query('COMMIT');
  expect(await campaignStatus(campaign)).toBe('completed');
});

it("an open transaction that ended one enrollment does not hold up another's ending", async () => {
  const { campaign, enrollments } = await activeCampaign(3);
  await endInOpenTransaction(one, enrollments[0]!, 'replied');
  // With the lock taken at the UPDATE, this commit would wait for `one`.
  await two.query("SET statement_timeout = '3s'");
  try {
    await endInOpenTransaction(two, enrollments[1]!, 'replied');
    await two.query('COMMIT');
  } finally {
    await two.query('RESET statement_timeout');
  }
  await one.query('COMMIT');
  expect(await campaignStatus(campaign)).toBe('active');
  await withTenant(app, t.tenant.id, (m) => m.query("UPDATE enrollments SET status = 'bounced' WHERE id = $1", [enrollments[2]]));
  expect(await campaignStatus(campaign)).toBe('completed');
});

it('the running-enrollment check reads the partial index, not every enrollment of the campaign', async () => {
  const { campaign } = await activeCampaign(1);
  const plan = await withTenant(app, t.tenant.id, (m) =>
    m.query("EXPLAIN (FORMAT JSON) SELECT 1 FROM enrollments e WHERE e.tenant_id = $1 AND e.campaign_id = $2 AND e.status IN ('pending', 'active', 'paused')", [
      t.tenant.id,
      campaign,
    ]),
  );
  expect(JSON.stringify(plan)).toContain('enrollments_running_idx');
});

it('completes the campaign, with its event, when the tenant context was cleared before the commit', async () => {
  // A webhook's transaction works as the tenant inside a platform transaction
  // and clears the context before it commits (withTenantInTransaction); the
  // deferred check runs at that commit.
  const { campaign, enrollments } = await activeCampaign(1);
  await one.query('BEGIN');
  await one.query("SELECT set_config('app.tenant_id', $1, true)", [t.tenant.id]);
  await one.query("UPDATE enrollments SET status = 'replied' WHERE id = $1", [enrollments[0]]);
  await one.query("SELECT set_config('app.tenant_id', '', true)");
  await one.query('COMMIT');
  expect(await campaignStatus(campaign)).toBe('completed');
  const events = await withTenant(app, t.tenant.id, (m) =>
    m.query("SELECT type FROM analytics_events WHERE campaign_id = $1 AND type = 'campaign.completed'", [campaign]),
  );
  expect(events).toHaveLength(1);
});
