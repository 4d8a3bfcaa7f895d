// Email-outreach capability per customer: the provider account a customer's
// outreach runs through (API key sealed, docs/security.md) and the sender
// inboxes synced from it. Inbox management builds on the same table.
import { type MigrationInterface, type QueryRunner } from 'typeorm';
import { enableTenantRls } from './lib/rls';

export class EmailOutreachCapability1730000003000 implements MigrationInterface {
  name = 'EmailOutreachCapability1730000003000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE provider_accounts (
        tenant_id uuid NOT NULL,
        customer_id text NOT NULL,
        provider text NOT NULL CHECK (provider IN ('smartlead')),
        status text NOT NULL CHECK (status IN ('provisioning', 'active', 'failed')),
        external_name text NOT NULL,
        external_account_id text,
        api_key_ciphertext text,
        api_key_key_id text,
        last_synced_at timestamptz,
        error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, customer_id, provider),
        FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE,
        CHECK ((api_key_ciphertext IS NULL) = (api_key_key_id IS NULL))
      )`);
    await enableTenantRls(q, 'provider_accounts');

    await q.query(`
      CREATE TABLE inboxes (
        tenant_id uuid NOT NULL,
        id text NOT NULL CHECK (id ~ '^inb_[0-9a-z]{26}$'),
        customer_id text NOT NULL,
        provider text NOT NULL CHECK (provider IN ('smtp', 'smartlead')),
        external_id text,
        from_email text NOT NULL,
        from_name text NOT NULL DEFAULT '',
        daily_cap integer NOT NULL CHECK (daily_cap BETWEEN 1 AND 10000),
        warmup_enabled boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id),
        UNIQUE (tenant_id, customer_id, provider, external_id),
        FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE
      )`);
    await enableTenantRls(q, 'inboxes');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE inboxes');
    await q.query('DROP TABLE provider_accounts');
  }
}
