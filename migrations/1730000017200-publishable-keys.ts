// Publishable keys (docs/analytics.md, "Website events"): what a tenant's
// website embeds to send its CTA events. A key belongs to one customer (its
// events are that customer's) and lists the origins allowed to use it. The
// key names its tenant in clear and is stored as the SHA-256 hash of the
// whole, like API tokens; a customer's removal takes its keys.
import { type MigrationInterface, type QueryRunner } from 'typeorm';
import { enableTenantRls } from './lib/rls';

export class PublishableKeys1730000017200 implements MigrationInterface {
  name = 'PublishableKeys1730000017200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE publishable_keys (
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        id text NOT NULL CHECK (id ~ '^pkey_[0-9a-z]{26}$'),
        customer_id text NOT NULL,
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
        key_hash text NOT NULL,
        hint text NOT NULL,
        allowed_origins text[] NOT NULL CHECK (cardinality(allowed_origins) BETWEEN 1 AND 20),
        created_by text REFERENCES users (id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz,
        PRIMARY KEY (tenant_id, id),
        UNIQUE (tenant_id, key_hash),
        FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE
      )`);
    await enableTenantRls(q, 'publishable_keys');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE publishable_keys');
  }
}
