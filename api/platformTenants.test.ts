// GET /api/tenants (platform admins): the list answers what its schema
// declares, whatever provisioning stored — found by the fuzz stage once it
// worked with a platform admin's session.
import { signIn, testApp } from '../test/helpers/api';
import { createTenant, createUser } from '../test/helpers/fixtures';
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
