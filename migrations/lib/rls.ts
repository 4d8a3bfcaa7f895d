// The row-level security pattern (docs/architecture.md, "Tenancy in the
// database"), in one place. Migrations call it for every tenant-owned table;
// its SQL must stay stable, since migrations that already ran depend on it.
import { type QueryRunner } from 'typeorm';

export const TENANT_PREDICATE = "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid";

export async function enableTenantRls(q: QueryRunner, table: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]*$/.test(table)) throw new Error(`unsafe table name: ${table}`);
  await q.query(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`);
  // FORCE makes the policy apply to the table owner too, so only a role with
  // BYPASSRLS (which none of ours has) could see across tenants.
  await q.query(`ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`);
  await q.query(`CREATE POLICY tenant_isolation ON ${table} USING (${TENANT_PREDICATE}) WITH CHECK (${TENANT_PREDICATE})`);
}

/**
 * Runs a backfill across every tenant. The owner role is no superuser and
 * FORCE ROW LEVEL SECURITY binds it too, so the tables it reads and writes
 * drop FORCE for the migration's own transaction and take it back after.
 */
export async function acrossTenants(q: QueryRunner, tables: string[], fn: () => Promise<void>): Promise<void> {
  for (const t of tables) {
    if (!/^[a-z_][a-z0-9_]*$/.test(t)) throw new Error(`unsafe table name: ${t}`);
    await q.query(`ALTER TABLE ${t} NO FORCE ROW LEVEL SECURITY`);
  }
  await fn();
  for (const t of tables) await q.query(`ALTER TABLE ${t} FORCE ROW LEVEL SECURITY`);
}
