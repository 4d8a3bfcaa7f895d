// Backfill migrations: the records the backfill workflows keep (every batch
// with its keys and lock time, every finishing DDL attempt, rows that cannot be
// derived), the derived column the product reads (`leads.email_domain`, filled
// for older rows by the `leads-email-domain` backfill), and the legacy import
// whose rows lack their tenant until the `legacy-tenant-id` backfill derives
// it.
import { type MigrationInterface, type QueryRunner } from 'typeorm';
import { APP_ROLE } from '../db/databaseRoles';

const LEGACY_TABLES = ['legacy_services', 'legacy_clients', 'legacy_bookings'] as const;

export class Backfills1730000010000 implements MigrationInterface {
  name = 'Backfills1730000010000';

  async up(q: QueryRunner): Promise<void> {
    // New and corrected leads write it; the backfill fills the rest, then NOT NULL and an index.
    await q.query('ALTER TABLE leads ADD COLUMN email_domain text');

    // Platform tables (no tenant_id column: a tenant-scoped run names its tenant in `scope`).
    // The backfill worker (owner role) writes them; the API (application role) only reads.
    await q.query(`
      CREATE TABLE backfill_batches (
        id bigserial PRIMARY KEY,
        backfill text NOT NULL,
        scope text NOT NULL,
        run_id text NOT NULL,
        first_key text,
        last_key text,
        size integer NOT NULL,
        rows integer NOT NULL DEFAULT 0,
        duration_ms integer NOT NULL,
        status text NOT NULL CHECK (status IN ('applied', 'timeout', 'failed')),
        attempt integer NOT NULL DEFAULT 1,
        error text,
        started_at timestamptz NOT NULL,
        finished_at timestamptz NOT NULL DEFAULT now()
      )`);
    // A batch applied once is never applied again: a resumed run finds it here and moves past it.
    await q.query("CREATE UNIQUE INDEX backfill_batches_applied ON backfill_batches (run_id, scope, coalesce(first_key, '')) WHERE status = 'applied'");
    await q.query('CREATE INDEX backfill_batches_run ON backfill_batches (backfill, scope, id)');
    await q.query(`
      CREATE TABLE backfill_ddl (
        id bigserial PRIMARY KEY,
        backfill text NOT NULL,
        run_id text NOT NULL,
        step text NOT NULL,
        attempt integer NOT NULL,
        outcome text NOT NULL CHECK (outcome IN ('done', 'already_done', 'lock_timeout', 'error')),
        duration_ms integer NOT NULL,
        error text,
        at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX backfill_ddl_backfill ON backfill_ddl (backfill, id)');
    await q.query(`
      CREATE TABLE backfill_orphans (
        backfill text NOT NULL,
        scope text NOT NULL,
        row_key text NOT NULL,
        reason text NOT NULL,
        found_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (backfill, scope, row_key)
      )`);
    for (const t of ['backfill_batches', 'backfill_ddl', 'backfill_orphans']) await q.query(`REVOKE INSERT, UPDATE, DELETE ON ${t} FROM ${APP_ROLE}`);
    // What platform admins did outside any tenant (starting, pausing, throttling a backfill): append-only.
    await q.query(`
      CREATE TABLE platform_audit_log (
        id text PRIMARY KEY CHECK (id ~ '^aud_[0-9a-z]{26}$'),
        action text NOT NULL,
        actor_user_id text,
        target_type text NOT NULL,
        target_id text NOT NULL,
        request_id text,
        details jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX platform_audit_log_target ON platform_audit_log (target_type, target_id, id)');
    await q.query(`REVOKE UPDATE, DELETE ON platform_audit_log FROM ${APP_ROLE}`);

    // The legacy import: services and clients arrived with their tenant,
    // bookings without it. The application role cannot touch any of them until
    // the backfill has derived every booking's tenant and switched on NOT NULL,
    // the foreign keys and FORCE ROW LEVEL SECURITY (it grants them then).
    await q.query(`
      CREATE TABLE legacy_services (
        id bigint PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        name text NOT NULL DEFAULT ''
      )`);
    await q.query(`
      CREATE TABLE legacy_clients (
        id bigint PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        name text NOT NULL DEFAULT '',
        UNIQUE (tenant_id, id)
      )`);
    await q.query(`
      CREATE TABLE legacy_bookings (
        id bigint PRIMARY KEY,
        service_id bigint REFERENCES legacy_services (id),
        client_id bigint REFERENCES legacy_clients (id),
        tenant_id uuid,
        notes text NOT NULL DEFAULT '',
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX legacy_bookings_service ON legacy_bookings (service_id)');
    await q.query('CREATE INDEX legacy_bookings_client ON legacy_bookings (client_id)');
    for (const t of LEGACY_TABLES) await q.query(`REVOKE ALL ON ${t} FROM ${APP_ROLE}`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of [...LEGACY_TABLES].reverse()) await q.query(`DROP TABLE IF EXISTS ${t}`);
    await q.query('DROP TABLE platform_audit_log');
    await q.query('DROP TABLE backfill_orphans');
    await q.query('DROP TABLE backfill_ddl');
    await q.query('DROP TABLE backfill_batches');
    await q.query('ALTER TABLE leads DROP COLUMN email_domain');
  }
}
