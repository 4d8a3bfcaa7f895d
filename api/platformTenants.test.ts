// GET /api/tenants (platform admins): the list answers what its schema
// declares, whatever provisioning stored — found by the fuzz stage once it
// worked with a platform admin's session.
import { signIn, testApp } from '../test/helpers/api';
import { addMember, createTenant, createUser } from '../test/helpers/fixtures';
import { useSuiteDatabase } from '../test/helpers/suite';

const suite = useSuiteDatabase('platform-tenants');

it('a tenant whose provisioning saved `error: null` is listed without an error, matching the schema (not a 500)', async () => {
  const t = await createTenant(suite.ds, { name: 'Provisioned' });
  const failed = await createTenant(suite.ds, { name: 'Failed' });
  // As the provisioning activity saves progress after each step, and as a failed run leaves it.
  await suite.ds.query(`UPDATE tenants SET provisioning = '{"stepsDone":6,"stepsTotal":6,"status":"completed","error":null}'::jsonb WHERE id = $1`, [
    t.tenant.id,
  ]);
  await suite.ds.query(`UPDATE tenants SET provisioning = '{"stepsDone":2,"stepsTotal":6,"status":"failed","error":"smtp down"}'::jsonb WHERE id = $1`, [
    failed.tenant.id,
  ]);
  const admin = await signIn(testApp(suite.ds), (await createUser(suite.ds, { platformAdmin: true })).email);
  const res = await admin.get('/api/tenants');
  expect(res.status).toBe(200);
  const byId = new Map((res.body.data as { id: string; provisioning: Record<string, unknown> }[]).map((x) => [x.id, x.provisioning]));
  expect(byId.get(t.tenant.id)).toEqual({ stepsDone: 6, stepsTotal: 6, status: 'completed' });
  expect(byId.get(failed.tenant.id)).toEqual({ stepsDone: 2, stepsTotal: 6, status: 'failed', error: 'smtp down' });
});

it('pages the tenants newest first by cursor, searches name and slug, and answers only platform admins', async () => {
  const marker = `pg${Date.now().toString(36)}`;
  const made = [];
  for (let i = 0; i < 5; i++) made.push(await createTenant(suite.ds, { name: `${marker} Agency ${i}` }));
  const admin = await signIn(testApp(suite.ds), (await createUser(suite.ds, { platformAdmin: true })).email);
  type TenantPage = { data: { id: string; name: string; slug: string }[]; nextCursor: string | null };

  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const res = await admin.get(`/api/tenants?limit=2&q=${marker}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(res.status).toBe(200);
    const page = res.body as TenantPage;
    expect(page.data.length).toBeLessThanOrEqual(2);
    seen.push(...page.data.map((t) => t.id));
    cursor = page.nextCursor;
  } while (cursor);
  expect(seen).toEqual(made.map((t) => t.tenant.id).reverse());

  // By slug, case-insensitively by name; a LIKE wildcard is a plain character.
  const bySlug = await admin.get(`/api/tenants?q=${made[2]!.tenant.slug}`);
  expect((bySlug.body as TenantPage).data.map((t) => t.id)).toEqual([made[2]!.tenant.id]);
  const byName = await admin.get(`/api/tenants?q=${marker.toUpperCase()}%20AGENCY%203`);
  expect((byName.body as TenantPage).data.map((t) => t.name)).toEqual([`${marker} Agency 3`]);
  expect((await admin.get(`/api/tenants?q=${marker}%25`)).body).toEqual({ data: [], nextCursor: null });

  // A forged cursor is a 400, not a failed cast.
  const forged = Buffer.from(JSON.stringify({ after: 'not-a-uuid' })).toString('base64url');
  expect((await admin.get(`/api/tenants?cursor=${forged}`)).status).toBe(400);
  expect((await admin.get('/api/tenants?limit=0')).status).toBe(400);

  // A tenant's owner is no platform admin: the list does not exist for them.
  const owner = await createUser(suite.ds);
  await addMember(suite.ds, made[0]!, owner, 'owner');
  const res = await (await signIn(testApp(suite.ds), owner.email)).get(`/api/tenants?q=${marker}`);
  expect([403, 404]).toContain(res.status);
  expect(JSON.stringify(res.body)).not.toContain(marker);
});
