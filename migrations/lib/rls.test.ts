// The helpers of migrations/lib are shared by migrations that already ran on
// every database: what they send is pinned here, statement by statement, so a
// change to a helper cannot silently change an applied migration. A new
// pattern is a new helper, called by new migrations only.
import { type QueryRunner } from 'typeorm';
import { acrossTenants, enableTenantRls, TENANT_PREDICATE } from './rls';

function recorder() {
  const sent: string[] = [];
  const q = { query: async (sql: string) => void sent.push(sql) } as unknown as QueryRunner;
  return { q, sent };
}

it('enableTenantRls sends the statements the applied migrations ran', async () => {
  const { q, sent } = recorder();
  await enableTenantRls(q, 'leads');
  expect(TENANT_PREDICATE).toBe("tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid");
  expect(sent).toEqual([
    'ALTER TABLE leads ENABLE ROW LEVEL SECURITY',
    'ALTER TABLE leads FORCE ROW LEVEL SECURITY',
    "CREATE POLICY tenant_isolation ON leads USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)",
  ]);
});

it('acrossTenants lifts FORCE around the work, in order, and takes it back', async () => {
  const { q, sent } = recorder();
  await acrossTenants(q, ['tenants', 'leads'], async () => void sent.push('-- the work'));
  expect(sent).toEqual([
    'ALTER TABLE tenants NO FORCE ROW LEVEL SECURITY',
    'ALTER TABLE leads NO FORCE ROW LEVEL SECURITY',
    '-- the work',
    'ALTER TABLE tenants FORCE ROW LEVEL SECURITY',
    'ALTER TABLE leads FORCE ROW LEVEL SECURITY',
  ]);
});

it('refuses a table name it would have to quote', async () => {
  const { q, sent } = recorder();
  await expect(enableTenantRls(q, 'leads; DROP TABLE tenants')).rejects.toThrow('unsafe table name');
  await expect(acrossTenants(q, ['Leads'], async () => undefined)).rejects.toThrow('unsafe table name');
  expect(sent).toEqual([]);
});
