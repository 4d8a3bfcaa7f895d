// Tenant provisioning: the registration a tenant came from (idempotent by
// external customer id), its provisioning progress, and the tenant-owned rows
// an industry template creates — onboarding checklist and entitlements — plus
// owner invites.
import { type MigrationInterface, type QueryRunner } from 'typeorm';
import { enableTenantRls } from './lib/rls';

export class TenantProvisioning1730000002000 implements MigrationInterface {
  name = 'TenantProvisioning1730000002000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE tenants
        ADD COLUMN external_customer_id text CHECK (length(external_customer_id) BETWEEN 1 AND 200),
        ADD COLUMN industry text,
        ADD COLUMN registration_hash text,
        ADD COLUMN owner_email text,
        ADD COLUMN owner_name text,
        ADD COLUMN pending_owner_password_hash text,
        ADD COLUMN settings jsonb NOT NULL DEFAULT '{}'::jsonb,
        ADD COLUMN stripe_customer_id text,
        ADD COLUMN provisioning jsonb NOT NULL DEFAULT '{}'::jsonb`);
    await q.query('CREATE UNIQUE INDEX tenants_external_customer_id_key ON tenants (external_customer_id)');

    await q.query(`
      CREATE TABLE onboarding_items (
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        key text NOT NULL,
        title text NOT NULL,
        position integer NOT NULL,
        done_at timestamptz,
        PRIMARY KEY (tenant_id, key)
      )`);
    await enableTenantRls(q, 'onboarding_items');

    await q.query(`
      CREATE TABLE entitlements (
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        key text NOT NULL,
        enabled boolean NOT NULL,
        limit_value integer,
        source text NOT NULL,
        PRIMARY KEY (tenant_id, key)
      )`);
    await enableTenantRls(q, 'entitlements');

    await q.query(`
      CREATE TABLE invites (
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        id text NOT NULL CHECK (id ~ '^inv_[0-9a-z]{26}$'),
        user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        token_hash text NOT NULL UNIQUE,
        expires_at timestamptz NOT NULL,
        accepted_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id)
      )`);
    await enableTenantRls(q, 'invites');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE invites');
    await q.query('DROP TABLE entitlements');
    await q.query('DROP TABLE onboarding_items');
    await q.query('DROP INDEX tenants_external_customer_id_key');
    await q.query(`
      ALTER TABLE tenants DROP COLUMN external_customer_id, DROP COLUMN industry, DROP COLUMN registration_hash,
        DROP COLUMN owner_email, DROP COLUMN owner_name, DROP COLUMN pending_owner_password_hash,
        DROP COLUMN settings, DROP COLUMN stripe_customer_id, DROP COLUMN provisioning`);
  }
}
