// Automations (docs/automations.md): lead stages and tags, automations with
// immutable versions, their runs and each run's steps, in-app notifications.
//
// A lead's `stage` is the tenant's own pipeline (its list on the tenant),
// apart from the delivery `status` the send path owns; `tags` are free
// labels. An automation's versions never change once written: editing adds
// a draft version, publishing points the automation at it. A run is a row
// from the moment a trigger fires (`queued`), so runs over a tenant's limit
// wait visibly; its `dedupe_key` makes a trigger delivered twice one run.
// A step row is keyed by its path in the definition (`2`, `3.replied.0`),
// which a rerun uses to skip what the failed run finished. The tenant row
// carries the event cursor of the trigger dispatcher and whether any
// automation is live, so the dispatcher finds its tenants without reading
// across row-level security.
import { type MigrationInterface, type QueryRunner } from 'typeorm';
import { acrossTenants, enableTenantRls } from './lib/rls';

const GRANTS: [string, string[]][] = [
  ['automations.read', ['owner', 'admin', 'member', 'viewer']],
  ['automations.write', ['owner', 'admin']],
  ['automations.execute', ['owner', 'admin']],
];

const RUN_STATUSES = ['queued', 'running', 'waiting', 'completed', 'failed', 'canceled'];
const STEP_STATUSES = ['running', 'waiting', 'completed', 'failed', 'skipped', 'canceled'];

const list = (xs: string[]) => xs.map((x) => `'${x}'`).join(', ');

export class Automations1730000018000 implements MigrationInterface {
  name = 'Automations1730000018000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE tenants
        ADD COLUMN lead_stages text[] NOT NULL DEFAULT '{new,interested,meeting,won,lost}'
          CHECK (cardinality(lead_stages) BETWEEN 1 AND 30),
        ADD COLUMN automation_max_running integer NOT NULL DEFAULT 20 CHECK (automation_max_running BETWEEN 1 AND 1000),
        ADD COLUMN automation_actions_per_minute integer NOT NULL DEFAULT 60 CHECK (automation_actions_per_minute BETWEEN 1 AND 100000),
        ADD COLUMN automation_loop_limit integer NOT NULL DEFAULT 5 CHECK (automation_loop_limit BETWEEN 1 AND 1000),
        ADD COLUMN automations_live boolean NOT NULL DEFAULT false,
        ADD COLUMN automation_cursor bigint NOT NULL DEFAULT 0`);
    await q.query(`
      ALTER TABLE leads
        ADD COLUMN stage text NOT NULL DEFAULT 'new' CHECK (length(stage) BETWEEN 1 AND 40),
        ADD COLUMN tags text[] NOT NULL DEFAULT '{}' CHECK (cardinality(tags) <= 50)`);
    await q.query('CREATE INDEX leads_tags_idx ON leads USING gin (tags)');

    await q.query(`
      CREATE TABLE automations (
        tenant_id uuid NOT NULL,
        id text NOT NULL CHECK (id ~ '^auto_[0-9a-z]{26}$'),
        customer_id text,
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        enabled boolean NOT NULL DEFAULT false,
        live_version integer,
        webhook_secret jsonb NOT NULL,
        created_by text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id),
        FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE
      )`);
    await enableTenantRls(q, 'automations');

    await q.query(`
      CREATE TABLE automation_versions (
        tenant_id uuid NOT NULL,
        automation_id text NOT NULL,
        version integer NOT NULL CHECK (version >= 1),
        definition jsonb NOT NULL CHECK (jsonb_typeof(definition) = 'object' AND octet_length(definition::text) <= 65536),
        created_by text,
        created_at timestamptz NOT NULL DEFAULT now(),
        published_at timestamptz,
        published_by text,
        PRIMARY KEY (tenant_id, automation_id, version),
        FOREIGN KEY (tenant_id, automation_id) REFERENCES automations (tenant_id, id) ON DELETE CASCADE
      )`);
    await enableTenantRls(q, 'automation_versions');
    await q.query(`
      ALTER TABLE automations ADD CONSTRAINT automations_live_version_fk
        FOREIGN KEY (tenant_id, id, live_version) REFERENCES automation_versions (tenant_id, automation_id, version)
        DEFERRABLE INITIALLY DEFERRED`);

    await q.query(`
      CREATE TABLE automation_runs (
        tenant_id uuid NOT NULL,
        seq bigint GENERATED ALWAYS AS IDENTITY,
        id text NOT NULL CHECK (id ~ '^arun_[0-9a-z]{26}$'),
        automation_id text NOT NULL,
        version integer NOT NULL,
        customer_id text,
        lead_id text,
        status text NOT NULL DEFAULT 'queued' CHECK (status IN (${list(RUN_STATUSES)})),
        trigger jsonb NOT NULL CHECK (jsonb_typeof(trigger) = 'object' AND octet_length(trigger::text) <= 65536),
        dedupe_key text CHECK (length(dedupe_key) BETWEEN 1 AND 512),
        dry_run boolean NOT NULL DEFAULT false,
        rerun_of text,
        waiting_for jsonb,
        error jsonb,
        queued_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        started_at timestamptz,
        ended_at timestamptz,
        PRIMARY KEY (tenant_id, id),
        UNIQUE (tenant_id, automation_id, dedupe_key),
        FOREIGN KEY (tenant_id, automation_id) REFERENCES automations (tenant_id, id) ON DELETE CASCADE,
        FOREIGN KEY (tenant_id, automation_id, version) REFERENCES automation_versions (tenant_id, automation_id, version),
        FOREIGN KEY (tenant_id, lead_id) REFERENCES leads (tenant_id, id) ON DELETE SET NULL (lead_id),
        FOREIGN KEY (tenant_id, rerun_of) REFERENCES automation_runs (tenant_id, id) ON DELETE SET NULL (rerun_of)
      )`);
    await q.query('CREATE INDEX automation_runs_automation_idx ON automation_runs (tenant_id, automation_id, queued_at DESC)');
    await q.query("CREATE INDEX automation_runs_queue_idx ON automation_runs (tenant_id, seq) WHERE status = 'queued'");
    await q.query("CREATE INDEX automation_runs_active_idx ON automation_runs (tenant_id, status) WHERE status IN ('running', 'waiting')");
    await enableTenantRls(q, 'automation_runs');

    await q.query(`
      CREATE TABLE automation_run_steps (
        tenant_id uuid NOT NULL,
        run_id text NOT NULL,
        path text NOT NULL CHECK (path ~ '^[0-9]+(\\.[a-z_]+\\.[0-9]+)*$'),
        ordinal integer NOT NULL,
        type text NOT NULL,
        status text NOT NULL CHECK (status IN (${list(STEP_STATUSES)})),
        attempt integer NOT NULL DEFAULT 1,
        output jsonb,
        error jsonb,
        started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        ended_at timestamptz,
        PRIMARY KEY (tenant_id, run_id, path),
        FOREIGN KEY (tenant_id, run_id) REFERENCES automation_runs (tenant_id, id) ON DELETE CASCADE
      )`);
    await enableTenantRls(q, 'automation_run_steps');

    await q.query(`
      CREATE TABLE notifications (
        tenant_id uuid NOT NULL,
        id text NOT NULL CHECK (id ~ '^ntf_[0-9a-z]{26}$'),
        user_id text NOT NULL,
        title text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
        body text NOT NULL DEFAULT '' CHECK (length(body) <= 4000),
        link text CHECK (length(link) <= 500),
        automation_id text,
        run_id text,
        dedupe_key text CHECK (length(dedupe_key) BETWEEN 1 AND 512),
        created_at timestamptz NOT NULL DEFAULT now(),
        read_at timestamptz,
        PRIMARY KEY (tenant_id, id),
        UNIQUE (tenant_id, user_id, dedupe_key)
      )`);
    await q.query('CREATE INDEX notifications_user_idx ON notifications (tenant_id, user_id, created_at DESC)');
    await enableTenantRls(q, 'notifications');

    await acrossTenants(q, ['roles', 'role_permissions'], async () => {
      for (const [permission, keys] of GRANTS) {
        await q.query(
          `INSERT INTO role_permissions (tenant_id, role_id, permission)
           SELECT r.tenant_id, r.id, $1 FROM roles r WHERE r.is_system AND r.key = ANY($2::text[])
           ON CONFLICT DO NOTHING`,
          [permission, keys],
        );
      }
    });
  }

  async down(q: QueryRunner): Promise<void> {
    await acrossTenants(q, ['role_permissions'], () =>
      q.query("DELETE FROM role_permissions WHERE permission IN ('automations.read', 'automations.write', 'automations.execute')"),
    );
    await q.query('DROP TABLE notifications');
    await q.query('DROP TABLE automation_run_steps');
    await q.query('DROP TABLE automation_runs');
    await q.query('ALTER TABLE automations DROP CONSTRAINT automations_live_version_fk');
    await q.query('DROP TABLE automation_versions');
    await q.query('DROP TABLE automations');
    await q.query('DROP INDEX leads_tags_idx');
    await q.query('ALTER TABLE leads DROP COLUMN tags, DROP COLUMN stage');
    await q.query(`
      ALTER TABLE tenants DROP COLUMN lead_stages, DROP COLUMN automation_max_running, DROP COLUMN automation_actions_per_minute,
        DROP COLUMN automation_loop_limit, DROP COLUMN automations_live, DROP COLUMN automation_cursor`);
  }
}
