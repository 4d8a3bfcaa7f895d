// Row-level security, checked on the real database as the real application
// role: no tenant context → nothing; a tenant's context → exactly its rows;
// and every tenant-owned table follows the pattern, so a new table that
// forgets it fails here.
import { type DataSource } from 'typeorm';
import { type Client } from 'pg';
import { Customer } from './entities';
import { newId } from './ids';
import { APP_ROLE } from './databaseRoles';
import { tenantContext, withTenant } from './tenantContext';
import { connect, createTestDatabase, openDataSource, type TestDatabase } from '../test/helpers/database';
import { createTenant } from '../test/helpers/fixtures';

let db: TestDatabase;
let owner: DataSource;
let app: DataSource;
let a: Awaited<ReturnType<typeof createTenant>>;
let b: Awaited<ReturnType<typeof createTenant>>;

beforeAll(async () => {
  db = await createTestDatabase('rls');
  owner = await openDataSource(db.ownerUrl);
  app = await openDataSource(db.appUrl);
  a = await createTenant(owner, { customers: 2 });
  b = await createTenant(owner, { customers: 3 });
});

afterAll(async () => {
  await app?.destroy();
  await owner?.destroy();
  await db?.drop();
});

describe('the application role', () => {
  let pg: Client;
  beforeAll(async () => {
    pg = await connect(db.appUrl);
  });
  afterAll(async () => pg.end());

  it('is neither superuser nor BYPASSRLS, and owns no table', async () => {
    const role = await pg.query('SELECT current_user AS name, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user');
    expect(role.rows[0]).toEqual({ name: APP_ROLE, rolsuper: false, rolbypassrls: false });
    const owned = await pg.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user");
    expect(owned.rows).toEqual([]);
  });

  it('reads nothing from a FORCE RLS table when app.tenant_id is unset', async () => {
    expect((await pg.query('SELECT count(*)::int AS n FROM customers')).rows[0].n).toBe(0);
    // An empty setting (what a reset leaves behind) is "unset" too.
    await pg.query('BEGIN');
    await pg.query("SELECT set_config('app.tenant_id', '', true)");
    expect((await pg.query('SELECT count(*)::int AS n FROM customers')).rows[0].n).toBe(0);
    await pg.query('COMMIT');
  });

  it("reads exactly its own tenant's rows once app.tenant_id is set inside a transaction", async () => {
    await pg.query('BEGIN');
    await pg.query("SELECT set_config('app.tenant_id', $1, true)", [a.tenant.id]);
    const rows = await pg.query('SELECT tenant_id, id FROM customers ORDER BY id');
    await pg.query('COMMIT');
    expect(rows.rows.map((r: { id: string }) => r.id)).toEqual(a.customers.map((c) => c.id).sort());
    expect(new Set(rows.rows.map((r: { tenant_id: string }) => r.tenant_id))).toEqual(new Set([a.tenant.id]));
    // The setting was transaction-local: the connection is clean afterwards.
    expect((await pg.query('SELECT count(*)::int AS n FROM customers')).rows[0].n).toBe(0);
  });

  it('cannot insert a row for another tenant (WITH CHECK)', async () => {
    await pg.query('BEGIN');
    await pg.query("SELECT set_config('app.tenant_id', $1, true)", [a.tenant.id]);
    await expect(pg.query('INSERT INTO customers (tenant_id, id, name) VALUES ($1, $2, $3)', [b.tenant.id, newId('cust'), 'smuggled'])).rejects.toThrow(
      /row-level security/,
    );
    await pg.query('ROLLBACK');
  });
});

describe('withTenant', () => {
  it('scopes an unfiltered ORM query to the context tenant', async () => {
    const seen = await withTenant(app, b.tenant.id, (manager) => manager.getRepository(Customer).find());
    expect(seen.map((c) => c.id).sort()).toEqual(b.customers.map((c) => c.id).sort());
  });

  it('carries the transaction manager in AsyncLocalStorage', async () => {
    await withTenant(app, a.tenant.id, async (manager) => {
      await Promise.resolve();
      expect(tenantContext().tenantId).toBe(a.tenant.id);
      expect(tenantContext().manager).toBe(manager);
    });
    expect(() => tenantContext()).toThrow(/no tenant context/);
  });

  it('does not leak one tenant context into concurrent work for another', async () => {
    const counts = await Promise.all(
      Array.from({ length: 10 }, (_, i) => {
        const t = i % 2 === 0 ? a : b;
        return withTenant(app, t.tenant.id, async (manager) => ({ expected: t.customers.length, seen: await manager.getRepository(Customer).count() }));
      }),
    );
    for (const { expected, seen } of counts) expect(seen).toBe(expected);
  });

  it('refuses a tenant id that is not a UUID', async () => {
    await expect(withTenant(app, "x' OR true --", async () => 1)).rejects.toThrow(/UUID/);
  });
});

describe('schema', () => {
  it('has FORCE row-level security with USING and WITH CHECK on every table with a tenant_id the application role can reach', async () => {
    const pg = await connect(db.ownerUrl);
    try {
      // A legacy import still waiting for its tenant backfill is out of the
      // application role's reach altogether; the backfill's finish grants it with RLS on.
      const tables = await pg.query(`
        SELECT c.relname AS table, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced,
               (SELECT count(*)::int FROM pg_policies p
                 WHERE p.tablename = c.relname AND p.qual LIKE '%app.tenant_id%' AND p.with_check LIKE '%app.tenant_id%') AS policies
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND c.relkind = 'r'
           AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
           AND has_table_privilege('${APP_ROLE}', c.oid, 'SELECT, INSERT, UPDATE, DELETE')`);
      expect(tables.rows.length).toBeGreaterThan(0);
      const unreachable = await pg.query(`
        SELECT c.relname AS table FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND c.relkind = 'r' AND NOT c.relforcerowsecurity
           AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
         ORDER BY 1`);
      expect(unreachable.rows.map((r: { table: string }) => r.table)).toEqual(['legacy_bookings', 'legacy_clients', 'legacy_services']);
      for (const t of tables.rows) {
        expect({ table: t.table, enabled: t.enabled, forced: t.forced, hasPolicy: t.policies > 0 }).toEqual({
          table: t.table,
          enabled: true,
          forced: true,
          hasPolicy: true,
        });
      }
    } finally {
      await pg.end();
    }
  });
});
