// Hardening against what an outside review found (docs/security.md):
// - a token carries its issuer's customer restriction (api_tokens.customer_id);
// - Idempotency-Key rows are scoped to tenant + principal + customer and can
//   withhold a secret from replays;
// - invites name the role and customer the invitee will get, so an existing
//   account is invited (and accepts while signed in) instead of attached;
// - sign-in remembers the last-used tenant;
// - failed sign-ins back off per account + client address (not a hard lock
//   anyone could trigger), counted in the database so every API replica and a
//   restarted one see the same count.
import { type MigrationInterface, type QueryRunner } from 'typeorm';

export class Hardening1730000007000 implements MigrationInterface {
  name = 'Hardening1730000007000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE api_tokens ADD COLUMN customer_id text');
    await q.query('ALTER TABLE api_tokens ADD FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE');

    await q.query("ALTER TABLE idempotency_keys ADD COLUMN scope text NOT NULL DEFAULT ''");
    await q.query('ALTER TABLE idempotency_keys ADD COLUMN secret_withheld boolean NOT NULL DEFAULT false');
    await q.query('ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_pkey');
    await q.query('ALTER TABLE idempotency_keys ADD PRIMARY KEY (tenant_id, scope, key)');
    await q.query('CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (tenant_id, created_at)');

    await q.query('ALTER TABLE invites ADD COLUMN role_id text');
    await q.query('ALTER TABLE invites ADD COLUMN customer_id text');
    await q.query('ALTER TABLE invites ADD COLUMN invited_by text REFERENCES users (id) ON DELETE SET NULL');
    await q.query('ALTER TABLE invites ADD FOREIGN KEY (tenant_id, role_id) REFERENCES roles (tenant_id, id) ON DELETE CASCADE');
    await q.query('ALTER TABLE invites ADD FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE');
    // A signed-in user may see their own pending invites across tenants (to accept them).
    await q.query(`
      CREATE POLICY own_invites ON invites FOR SELECT
        USING (user_id = NULLIF(current_setting('app.user_id', true), ''))`);
    await q.query('CREATE INDEX invites_user_idx ON invites (user_id)');

    await q.query('ALTER TABLE users ADD COLUMN last_tenant_id uuid REFERENCES tenants (id) ON DELETE SET NULL');

    await q.query(`
      CREATE TABLE login_failures (
        email text NOT NULL CHECK (length(email) BETWEEN 1 AND 320),
        client text NOT NULL CHECK (length(client) BETWEEN 1 AND 64),
        failures integer NOT NULL DEFAULT 0,
        blocked_until timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (email, client)
      )`);
    await q.query('CREATE INDEX login_failures_updated_idx ON login_failures (updated_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE login_failures');
    await q.query('ALTER TABLE users DROP COLUMN last_tenant_id');
    await q.query('DROP POLICY own_invites ON invites');
    await q.query('DROP INDEX invites_user_idx');
    await q.query('ALTER TABLE invites DROP COLUMN invited_by, DROP COLUMN customer_id, DROP COLUMN role_id');
    await q.query('DROP INDEX idempotency_keys_created_idx');
    await q.query('ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_pkey');
    await q.query("DELETE FROM idempotency_keys WHERE scope <> ''");
    await q.query('ALTER TABLE idempotency_keys DROP COLUMN secret_withheld, DROP COLUMN scope');
    await q.query('ALTER TABLE idempotency_keys ADD PRIMARY KEY (tenant_id, key)');
    await q.query('ALTER TABLE api_tokens DROP COLUMN customer_id');
  }
}
