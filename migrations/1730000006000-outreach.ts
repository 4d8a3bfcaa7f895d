// Outreach: campaigns with their inboxes and schedule, versioned sequence
// snapshots, leads (one per e-mail per customer), the tenant's suppression
// list, enrollments (one workflow each), messages (the unique (tenant,
// enrollment, step) key makes sends exactly-once), the shared daily send slots
// of an inbox, and the webhook events providers send.
import { type MigrationInterface, type QueryRunner } from 'typeorm';
import { enableTenantRls } from './lib/rls';

export class Outreach1730000006000 implements MigrationInterface {
  name = 'Outreach1730000006000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE campaigns (
        tenant_id uuid NOT NULL,
        id text NOT NULL CHECK (id ~ '^cmp_[0-9a-z]{26}$'),
        customer_id text NOT NULL,
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'active', 'paused', 'completed', 'archived')),
        timezone text NOT NULL,
        days smallint[] NOT NULL CHECK (cardinality(days) BETWEEN 1 AND 7 AND days <@ ARRAY[1,2,3,4,5,6,7]::smallint[]),
        window_start text NOT NULL CHECK (window_start ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'),
        window_end text NOT NULL CHECK (window_end ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$'),
        sequence_version integer,
        started_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id),
        UNIQUE (tenant_id, customer_id, id),
        CHECK (window_start < window_end),
        FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE
      )`);
    await q.query('CREATE INDEX campaigns_customer_idx ON campaigns (tenant_id, customer_id, id)');
    await enableTenantRls(q, 'campaigns');

    await q.query(`
      CREATE TABLE campaign_inboxes (
        tenant_id uuid NOT NULL,
        campaign_id text NOT NULL,
        inbox_id text NOT NULL,
        PRIMARY KEY (tenant_id, campaign_id, inbox_id),
        FOREIGN KEY (tenant_id, campaign_id) REFERENCES campaigns (tenant_id, id) ON DELETE CASCADE,
        FOREIGN KEY (tenant_id, inbox_id) REFERENCES inboxes (tenant_id, id) ON DELETE RESTRICT
      )`);
    await enableTenantRls(q, 'campaign_inboxes');

    // A snapshot is immutable: a changed sequence is a new version.
    await q.query(`
      CREATE TABLE campaign_sequences (
        tenant_id uuid NOT NULL,
        campaign_id text NOT NULL,
        version integer NOT NULL CHECK (version >= 1),
        source_sequence_id text,
        steps jsonb NOT NULL CHECK (jsonb_typeof(steps) = 'array' AND jsonb_array_length(steps) >= 1),
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, campaign_id, version),
        FOREIGN KEY (tenant_id, campaign_id) REFERENCES campaigns (tenant_id, id) ON DELETE CASCADE
      )`);
    await enableTenantRls(q, 'campaign_sequences');

    await q.query(`
      CREATE TABLE leads (
        tenant_id uuid NOT NULL,
        id text NOT NULL CHECK (id ~ '^lead_[0-9a-z]{26}$'),
        customer_id text NOT NULL,
        email text NOT NULL CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 320),
        first_name text NOT NULL DEFAULT '',
        last_name text NOT NULL DEFAULT '',
        company text NOT NULL DEFAULT '',
        fields jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(fields) = 'object'),
        status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'replied', 'bounced', 'unsubscribed')),
        source text NOT NULL CHECK (source IN ('api', 'csv')),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id),
        UNIQUE (tenant_id, customer_id, email),
        FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE
      )`);
    await q.query('CREATE INDEX leads_customer_idx ON leads (tenant_id, customer_id, id)');
    await q.query('CREATE INDEX leads_email_idx ON leads (tenant_id, email)');
    await enableTenantRls(q, 'leads');

    await q.query(`
      CREATE TABLE suppressions (
        tenant_id uuid NOT NULL,
        email text NOT NULL CHECK (email = lower(email)),
        reason text NOT NULL CHECK (reason IN ('unsubscribed', 'bounced', 'manual')),
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, email)
      )`);
    await enableTenantRls(q, 'suppressions');

    await q.query(`
      CREATE TABLE enrollments (
        tenant_id uuid NOT NULL,
        id text NOT NULL CHECK (id ~ '^enr_[0-9a-z]{26}$'),
        customer_id text NOT NULL,
        campaign_id text NOT NULL,
        lead_id text NOT NULL,
        sequence_version integer,
        inbox_id text,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'active', 'paused', 'completed', 'replied', 'bounced', 'unsubscribed', 'archived', 'failed')),
        current_step integer NOT NULL DEFAULT 0,
        sent integer NOT NULL DEFAULT 0,
        next_send_at timestamptz,
        last_error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id),
        UNIQUE (tenant_id, campaign_id, lead_id),
        FOREIGN KEY (tenant_id, customer_id, campaign_id) REFERENCES campaigns (tenant_id, customer_id, id) ON DELETE CASCADE,
        FOREIGN KEY (tenant_id, lead_id) REFERENCES leads (tenant_id, id) ON DELETE CASCADE,
        FOREIGN KEY (tenant_id, campaign_id, sequence_version) REFERENCES campaign_sequences (tenant_id, campaign_id, version)
      )`);
    await q.query('CREATE INDEX enrollments_campaign_idx ON enrollments (tenant_id, campaign_id, id)');
    await q.query('CREATE INDEX enrollments_lead_idx ON enrollments (tenant_id, lead_id)');
    await enableTenantRls(q, 'enrollments');

    // Outbound rows are written before the provider is called; the partial
    // unique key is what makes a retried send find the first attempt.
    await q.query(`
      CREATE TABLE messages (
        tenant_id uuid NOT NULL,
        id text NOT NULL CHECK (id ~ '^msg_[0-9a-z]{26}$'),
        customer_id text NOT NULL,
        campaign_id text NOT NULL,
        enrollment_id text NOT NULL,
        lead_id text NOT NULL,
        inbox_id text,
        direction text NOT NULL CHECK (direction IN ('outbound', 'inbound')),
        step integer,
        status text NOT NULL CHECK (status IN ('sending', 'accepted', 'uncertain', 'failed', 'render_error', 'received')),
        message_id text NOT NULL,
        provider_message_id text,
        subject text NOT NULL DEFAULT '',
        body text NOT NULL DEFAULT '',
        error text,
        unsubscribe_token text UNIQUE,
        scheduled_at timestamptz,
        sent_at timestamptz,
        opened_at timestamptz,
        opens integer NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id),
        CHECK ((direction = 'outbound') = (step IS NOT NULL)),
        FOREIGN KEY (tenant_id, enrollment_id) REFERENCES enrollments (tenant_id, id) ON DELETE CASCADE
      )`);
    await q.query("CREATE UNIQUE INDEX messages_send_key ON messages (tenant_id, enrollment_id, step) WHERE direction = 'outbound'");
    await q.query('CREATE UNIQUE INDEX messages_message_id_key ON messages (tenant_id, message_id)');
    await q.query('CREATE INDEX messages_campaign_idx ON messages (tenant_id, campaign_id, direction, id)');
    await enableTenantRls(q, 'messages');

    // The inbox's daily cap, shared by every enrollment that sends from it:
    // a slot is taken under a lock on the inbox row, once per (enrollment, step).
    await q.query(`
      CREATE TABLE inbox_send_slots (
        tenant_id uuid NOT NULL,
        inbox_id text NOT NULL,
        day date NOT NULL,
        enrollment_id text NOT NULL,
        step integer NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, enrollment_id, step),
        FOREIGN KEY (tenant_id, inbox_id) REFERENCES inboxes (tenant_id, id) ON DELETE CASCADE
      )`);
    await q.query('CREATE INDEX inbox_send_slots_day_idx ON inbox_send_slots (tenant_id, inbox_id, day)');
    await enableTenantRls(q, 'inbox_send_slots');

    // A platform table like tenants: an event arrives before anyone knows its
    // tenant. routed_tenant_id is set once the event is matched to a message.
    await q.query(`
      CREATE TABLE webhook_events (
        id text PRIMARY KEY CHECK (id ~ '^whk_[0-9a-z]{26}$'),
        source text NOT NULL CHECK (length(source) BETWEEN 1 AND 100),
        event_id text NOT NULL CHECK (length(event_id) BETWEEN 1 AND 300),
        type text NOT NULL,
        status text NOT NULL CHECK (status IN ('processed', 'dead_letter')),
        routed_tenant_id uuid REFERENCES tenants (id) ON DELETE SET NULL,
        payload jsonb NOT NULL,
        error text,
        attempts integer NOT NULL DEFAULT 1,
        received_at timestamptz NOT NULL DEFAULT now(),
        processed_at timestamptz,
        UNIQUE (source, event_id)
      )`);
    await q.query("CREATE INDEX webhook_events_dead_idx ON webhook_events (received_at) WHERE status = 'dead_letter'");
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of [
      'webhook_events',
      'inbox_send_slots',
      'messages',
      'enrollments',
      'suppressions',
      'leads',
      'campaign_sequences',
      'campaign_inboxes',
      'campaigns',
    ])
      await q.query(`DROP TABLE ${t}`);
  }
}
