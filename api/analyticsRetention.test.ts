// Analytics retention (docs/analytics.md, "Retention"): a tenant sets how many
// days it keeps events (settings.manage; null keeps them for ever), and a
// pruning run deletes older events by when they happened, in bounded
// batches, leaving other tenants and newer events alone.
import { insertEvents } from '../db/analyticsEvents';
import { withTenant } from '../db/tenantContext';
import { pruneExpiredEvents } from '../services/analytics/retention';
import { signIn, testApp } from '../test/helpers/api';
import { addMember, createTenant, createUser, type TenantFixture } from '../test/helpers/fixtures';
import { useSuiteDatabase } from '../test/helpers/suite';

const suite = useSuiteDatabase('analytics-retention');
const DAY = 86_400_000;

async function seedEvents(t: TenantFixture, ages: number[], tag: string): Promise<void> {
  await withTenant(suite.ds, t.tenant.id, (m) =>
    insertEvents(
      m,
      ages.map((days, i) => ({
        type: 'cta.click' as const,
        occurredAt: new Date(Date.now() - days * DAY),
        customerId: t.customers[0]!.id,
        surface: 'home',
        dedupeKey: `cta:${tag}-${i}`,
      })),
    ),
  );
}

const ages = async (t: TenantFixture) =>
  (
    (await withTenant(suite.ds, t.tenant.id, (m) =>
      m.query('SELECT floor(extract(epoch FROM now() - occurred_at) / 86400)::int AS d FROM analytics_events ORDER BY d'),
    )) as { d: number }[]
  ).map((r) => r.d);

it('is set through the settings API by owners and admins only, within 1–3650 days or null', async () => {
  const app = testApp(suite.ds);
  const t = await createTenant(suite.ds, { customers: 1 });
  const [owner, viewer] = [await createUser(suite.ds), await createUser(suite.ds)];
  await addMember(suite.ds, t, owner, 'owner');
  await addMember(suite.ds, t, viewer, 'viewer');
  const agent = await signIn(app, owner.email);
  expect((await agent.get('/api/settings')).body).toMatchObject({ analyticsRetentionDays: null });
  expect((await agent.patch('/api/settings').send({ analyticsRetentionDays: 30 })).body).toMatchObject({ analyticsRetentionDays: 30 });
  expect((await agent.get('/api/settings')).body).toMatchObject({ analyticsRetentionDays: 30 });
  for (const bad of [0, 3651, 1.5, '30']) expect((await agent.patch('/api/settings').send({ analyticsRetentionDays: bad })).status).toBe(400);
  expect((await agent.patch('/api/settings').send({ analyticsRetentionDays: null })).body).toMatchObject({ analyticsRetentionDays: null });
  const v = await signIn(app, viewer.email);
  expect((await v.patch('/api/settings').send({ analyticsRetentionDays: 1 })).status).toBe(403);
  expect((await agent.get('/api/settings')).body).toMatchObject({ analyticsRetentionDays: null });
});

it('prunes events older than the retention in bounded batches; unlimited tenants keep everything', async () => {
  const limited = await createTenant(suite.ds, { customers: 1 });
  const unlimited = await createTenant(suite.ds, { customers: 1 });
  const old = Array.from({ length: 25 }, (_, i) => 31 + i);
  await seedEvents(limited, [...old, 1, 5, 29], 'l');
  await seedEvents(unlimited, [...old, 1], 'u');
  await suite.ds.query('UPDATE tenants SET analytics_retention_days = 30 WHERE id = $1', [limited.tenant.id]);

  // Two batches of 10 per run: the first run leaves 5 of the 25 for the next.
  const first = await pruneExpiredEvents(suite.ds, { batchSize: 10, maxBatches: 2 });
  expect(first.deleted).toBe(20);
  expect((await ages(limited)).filter((d) => d > 30)).toHaveLength(5);
  const second = await pruneExpiredEvents(suite.ds, { batchSize: 10, maxBatches: 2 });
  expect(second.deleted).toBe(5);
  expect(await ages(limited)).toEqual([1, 5, 29]);
  expect(await ages(unlimited)).toHaveLength(26);
  expect((await pruneExpiredEvents(suite.ds, { batchSize: 10 })).deleted).toBe(0);
});
