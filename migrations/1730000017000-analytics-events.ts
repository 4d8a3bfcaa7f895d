// The analytics event stream (docs/analytics.md): one row per fact, written
// in the statement or transaction that records the fact itself, so the
// stream and the tables never disagree. `seq` is the ingestion order, the
// key of incremental pulls and of the primary key; `id` is the event's own
// sortable id, made by the database so a statement that records a fact can
// write its events as one more CTE. `dedupe_key` makes a fact delivered
// twice (a replayed webhook, a retried activity, a client's resent batch)
// one row. `received_at` is the clock at the insert (not the transaction's
// start), so it rises with `seq`: incremental pulls rely on it. A customer's removal takes its events; a lead's removal keeps
// the counts but drops the reference to the person.
import { type MigrationInterface, type QueryRunner } from 'typeorm';
import { acrossTenants, enableTenantRls } from './lib/rls';

const TYPES = [
  'message.queued',
  'message.sent',
  'message.uncertain',
  'message.failed',
  'message.bounced',
  'message.replied',
  'message.opened',
  'message.clicked',
  'lead.created',
  'lead.stage_changed',
  'lead.tagged',
  'lead.unsubscribed',
  'conversation.opened',
  'conversation.closed',
  'campaign.completed',
  'automation.run_completed',
  'automation.run_failed',
];

const GRANTS: [string, string[]][] = [
  ['analytics.read', ['owner', 'admin', 'member', 'viewer']],
  ['analytics.export', ['owner', 'admin']],
];

export class AnalyticsEvents1730000017000 implements MigrationInterface {
  name = 'AnalyticsEvents1730000017000';

  async up(q: QueryRunner): Promise<void> {
    // 'aev_' and 26 Crockford base32 characters: 10 for the millisecond
    // time, 16 random, the shape of every other id (db/ids.ts).
    await q.query(`
      CREATE FUNCTION analytics_event_id() RETURNS text LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
        SELECT 'aev_' || string_agg(substr('0123456789abcdefghjkmnpqrstvwxyz',
                 CASE WHEN i < 10 THEN ((t >> (45 - 5 * i)) & 31)::int ELSE floor(random() * 32)::int END + 1, 1), '' ORDER BY i)
          FROM (SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS t) n, generate_series(0, 25) i
      $$`);
    await q.query(`
      CREATE TABLE analytics_events (
        tenant_id uuid NOT NULL,
        seq bigint GENERATED ALWAYS AS IDENTITY,
        id text NOT NULL DEFAULT analytics_event_id() CHECK (id ~ '^aev_[0-9a-z]{26}$'),
        type text NOT NULL CHECK (type IN (${TYPES.map((t) => `'${t}'`).join(', ')}) OR type ~ '^cta\\.[a-z0-9_]{1,40}$'),
        occurred_at timestamptz NOT NULL,
        received_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        customer_id text,
        campaign_id text,
        step integer,
        enrollment_id text,
        message_id text,
        lead_id text,
        conversation_id text,
        automation_id text,
        surface text CHECK (length(surface) BETWEEN 1 AND 100),
        properties jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(properties) = 'object' AND octet_length(properties::text) <= 4096),
        dedupe_key text NOT NULL CHECK (length(dedupe_key) BETWEEN 1 AND 512),
        PRIMARY KEY (tenant_id, seq),
        UNIQUE (tenant_id, dedupe_key),
        FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE,
        FOREIGN KEY (tenant_id, lead_id) REFERENCES leads (tenant_id, id) ON DELETE SET NULL (lead_id)
      )`);
    await q.query('CREATE INDEX analytics_events_customer_idx ON analytics_events (tenant_id, customer_id, occurred_at)');
    await q.query('CREATE INDEX analytics_events_campaign_idx ON analytics_events (tenant_id, campaign_id, type, occurred_at) WHERE campaign_id IS NOT NULL');
    await q.query('CREATE INDEX analytics_events_lead_idx ON analytics_events (tenant_id, lead_id) WHERE lead_id IS NOT NULL');
    await enableTenantRls(q, 'analytics_events');
    // Open and click tracking is off until a campaign turns it on; retention
    // is unlimited until a tenant sets a number of days.
    await q.query('ALTER TABLE campaigns ADD COLUMN tracking boolean NOT NULL DEFAULT false');
    await q.query('ALTER TABLE tenants ADD COLUMN analytics_retention_days integer CHECK (analytics_retention_days BETWEEN 1 AND 3650)');

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
    await acrossTenants(q, ['role_permissions'], () => q.query("DELETE FROM role_permissions WHERE permission IN ('analytics.read', 'analytics.export')"));
    await q.query('ALTER TABLE tenants DROP COLUMN analytics_retention_days');
    await q.query('ALTER TABLE campaigns DROP COLUMN tracking');
    await q.query('DROP TABLE analytics_events');
    await q.query('DROP FUNCTION analytics_event_id()');
  }
}
