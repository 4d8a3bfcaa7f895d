// Users, memberships, roles and permissions, API tokens, sessions, the audit
// log and idempotency keys.
//
// Users and sessions are platform tables: a user may belong to several
// tenants, and a credential must be resolved before any tenant is known.
// Everything a tenant owns follows §3.1–3.2: tenant_id NOT NULL, keys that
// lead with tenant_id, composite foreign keys, FORCE RLS.
import { type MigrationInterface, type QueryRunner } from 'typeorm';
import { APP_ROLE } from '../db/databaseRoles';
import { enableTenantRls } from './lib/rls';

export class CreateAccessCore1730000001000 implements MigrationInterface {
  name = 'CreateAccessCore1730000001000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE users (
        id text PRIMARY KEY CHECK (id ~ '^usr_[0-9a-z]{26}$'),
        email text NOT NULL CHECK (email = lower(email) AND position('@' in email) > 1),
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        password_hash text,
        is_platform_admin boolean NOT NULL DEFAULT false,
        failed_logins integer NOT NULL DEFAULT 0,
        locked_until timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE UNIQUE INDEX users_email_key ON users (email)');

    await q.query(`
      CREATE TABLE roles (
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        id text NOT NULL CHECK (id ~ '^role_[0-9a-z]{26}$'),
        key text,
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
        is_system boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id),
        UNIQUE (tenant_id, name),
        UNIQUE (tenant_id, key)
      )`);
    await enableTenantRls(q, 'roles');

    await q.query(`
      CREATE TABLE role_permissions (
        tenant_id uuid NOT NULL,
        role_id text NOT NULL,
        permission text NOT NULL CHECK (permission ~ '^[a-z]+\\.[a-z]+$'),
        PRIMARY KEY (tenant_id, role_id, permission),
        FOREIGN KEY (tenant_id, role_id) REFERENCES roles (tenant_id, id) ON DELETE CASCADE
      )`);
    await enableTenantRls(q, 'role_permissions');

    await q.query(`
      CREATE TABLE memberships (
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        id text NOT NULL CHECK (id ~ '^mem_[0-9a-z]{26}$'),
        user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        role_id text NOT NULL,
        customer_id text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id),
        UNIQUE (tenant_id, user_id),
        FOREIGN KEY (tenant_id, role_id) REFERENCES roles (tenant_id, id),
        FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE
      )`);
    await enableTenantRls(q, 'memberships');
    // A signed-in user may list their own memberships across tenants (login,
    // tenant switcher) — read-only, and only their own rows.
    await q.query(`
      CREATE POLICY own_memberships ON memberships FOR SELECT
        USING (user_id = NULLIF(current_setting('app.user_id', true), ''))`);
    await q.query('CREATE INDEX memberships_user_idx ON memberships (user_id)');

    await q.query(`
      CREATE TABLE api_tokens (
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        id text NOT NULL CHECK (id ~ '^tok_[0-9a-z]{26}$'),
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
        token_hash text NOT NULL,
        prefix text NOT NULL,
        role_id text NOT NULL,
        created_by text REFERENCES users (id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz,
        revoked_at timestamptz,
        PRIMARY KEY (tenant_id, id),
        UNIQUE (tenant_id, token_hash),
        FOREIGN KEY (tenant_id, role_id) REFERENCES roles (tenant_id, id)
      )`);
    await enableTenantRls(q, 'api_tokens');

    await q.query(`
      CREATE TABLE sessions (
        id_hash text PRIMARY KEY,
        user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        current_tenant uuid REFERENCES tenants (id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz
      )`);
    await q.query('CREATE INDEX sessions_user_idx ON sessions (user_id)');

    await q.query(`
      CREATE TABLE audit_log (
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        id text NOT NULL CHECK (id ~ '^aud_[0-9a-z]{26}$'),
        at timestamptz NOT NULL DEFAULT now(),
        action text NOT NULL,
        outcome text NOT NULL CHECK (outcome IN ('success', 'failure', 'denied')),
        actor_user_id text,
        actor_token_id text,
        target_type text,
        target_id text,
        request_id text,
        details jsonb NOT NULL DEFAULT '{}'::jsonb,
        PRIMARY KEY (tenant_id, id)
      )`);
    await enableTenantRls(q, 'audit_log');
    await q.query('CREATE INDEX audit_log_tenant_at_idx ON audit_log (tenant_id, at DESC, id DESC)');
    // Append-only for the application.
    await q.query(`REVOKE UPDATE, DELETE ON audit_log FROM ${APP_ROLE}`);

    await q.query(`
      CREATE TABLE idempotency_keys (
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        key text NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
        request_hash text NOT NULL,
        status integer,
        response jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, key)
      )`);
    await enableTenantRls(q, 'idempotency_keys');
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['idempotency_keys', 'audit_log', 'sessions', 'api_tokens', 'memberships', 'role_permissions', 'roles', 'users']) {
      await q.query(`DROP TABLE ${table}`);
    }
  }
}
