// The event stream's table: ids in the house shape made by the database, one
// row per dedupe key, the shapes it refuses, tenant isolation, and a lead's
// removal dropping the reference to the person while the count stays.
import { type DataSource } from 'typeorm';
import { eventInsert, insertEvents } from './analyticsEvents';
import { isId, newId } from './ids';
import { withTenant } from './tenantContext';
import { createTestDatabase, openDataSource, type TestDatabase } from '../test/helpers/database';
import { createTenant, type TenantFixture } from '../test/helpers/fixtures';

let db: TestDatabase;
let app: DataSource;
let t: TenantFixture;
let other: TenantFixture;

beforeAll(async () => {
  db = await createTestDatabase('analytics_events');
  app = await openDataSource(db.appUrl);
  t = await createTenant(app, { customers: 1 });
  other = await createTenant(app, { customers: 1 });
});

afterAll(async () => {
  await app?.destroy();
  await db?.drop();
});

const events = (tenantId: string) =>
  withTenant(app, tenantId, (m) => m.query('SELECT id, type, lead_id, seq FROM analytics_events ORDER BY seq') as Promise<Record<string, string>[]>);

test('stores an event once per dedupe key, with a house-shaped id and increasing seq', async () => {
  const customerId = t.customers[0]!.id;
  const first = await withTenant(app, t.tenant.id, (m) =>
    insertEvents(m, [
      { type: 'cta.signup', customerId, surface: 'pricing', properties: { plan: 'pro' }, dedupeKey: 'cta:a' },
      { type: 'cta.signup', customerId, surface: 'pricing', dedupeKey: 'cta:b' },
    ]),
  );
  const again = await withTenant(app, t.tenant.id, (m) => insertEvents(m, [{ type: 'cta.signup', customerId, dedupeKey: 'cta:a' }]));
  expect([first, again]).toEqual([2, 0]);
  const rows = await events(t.tenant.id);
  expect(rows).toHaveLength(2);
  for (const r of rows) expect(isId('aev', r.id!)).toBe(true);
  expect(Number(rows[1]!.seq)).toBeGreaterThan(Number(rows[0]!.seq));
  expect(await events(other.tenant.id)).toEqual([]);
});

test('an event embedded in a statement is written by it, and its failure fails the statement', async () => {
  const customerId = t.customers[0]!.id;
  await withTenant(app, t.tenant.id, (m) =>
    m.query(
      `WITH src AS (SELECT $1::text AS customer_id), ev AS (${eventInsert('src', { type: "'lead.created'", customerId: 'src.customer_id', dedupeKey: "'embedded:1'" })}) SELECT 1`,
      [customerId],
    ),
  );
  expect((await events(t.tenant.id)).map((r) => r.type)).toContain('lead.created');
  await expect(
    withTenant(app, t.tenant.id, (m) =>
      m.query(`WITH src AS (SELECT 1), ev AS (${eventInsert('src', { type: "'nope'", dedupeKey: "'embedded:2'" })}) SELECT 1`),
    ),
  ).rejects.toThrow(/check constraint/);
});

test('refuses an unknown type, oversized properties and a non-object', async () => {
  for (const bad of [
    { type: 'message.exploded', dedupeKey: 'x:1' },
    { type: 'cta.Signup', dedupeKey: 'x:2' },
    { type: 'cta.big', properties: { blob: 'x'.repeat(5000) }, dedupeKey: 'x:3' },
  ]) {
    await expect(withTenant(app, t.tenant.id, (m) => insertEvents(m, [bad as never]))).rejects.toThrow(/check constraint/);
  }
});

test("a lead's removal keeps its events and drops the reference to the person", async () => {
  const customerId = t.customers[0]!.id;
  const lead = newId('lead');
  await withTenant(app, t.tenant.id, async (m) => {
    await m.query(
      "INSERT INTO leads (tenant_id, id, customer_id, email, source) VALUES (current_setting('app.tenant_id')::uuid, $1, $2, 'gone@x.example', 'api')",
      [lead, customerId],
    );
    await insertEvents(m, [{ type: 'lead.created', customerId, leadId: lead, dedupeKey: `lead.created:${lead}` }]);
    await m.query('DELETE FROM leads WHERE id = $1', [lead]);
  });
  const rows = await withTenant(app, t.tenant.id, (m) => m.query('SELECT lead_id FROM analytics_events WHERE dedupe_key = $1', [`lead.created:${lead}`]));
  expect(rows).toEqual([{ lead_id: null }]);
});
