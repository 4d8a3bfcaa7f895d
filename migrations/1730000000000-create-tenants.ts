// The platform's first tables: the tenant registry and the first tenant-owned
// table, with the row-level security pattern every tenant-owned table follows.
import { type MigrationInterface, type QueryRunner } from 'typeorm';
import { APP_ROLE } from '../db/databaseRoles';
import { enableTenantRls } from './lib/rls';

export class CreateTenants1730000000000 implements MigrationInterface {
  name = 'CreateTenants1730000000000';

  async up(q: QueryRunner): Promise<void> {
    const app = await q.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [APP_ROLE]);
    if (!app.length) {
      throw new Error(`role ${APP_ROLE} does not exist: create it (LOGIN NOSUPERUSER NOBYPASSRLS) before migrating`);
    }
    // Everything the owner creates from here on is usable, never owned, by the app role.
    await q.query(`GRANT USAGE ON SCHEMA public TO ${APP_ROLE}`);
    await q.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${APP_ROLE}`);
    await q.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO ${APP_ROLE}`);

    await q.query(`
      CREATE TABLE tenants (
        id uuid PRIMARY KEY,
        slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        status text NOT NULL DEFAULT 'provisioning'
          CHECK (status IN ('provisioning', 'active', 'failed', 'suspended')),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);

    await q.query(`
      CREATE TABLE customers (
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        id text NOT NULL CHECK (id ~ '^cust_[0-9a-z]{26}$'),
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id)
      )`);
    await enableTenantRls(q, 'customers');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE customers');
    await q.query('DROP TABLE tenants');
    await q.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM ${APP_ROLE}`);
    await q.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE USAGE, SELECT ON SEQUENCES FROM ${APP_ROLE}`);
    await q.query(`REVOKE USAGE ON SCHEMA public FROM ${APP_ROLE}`);
  }
}
