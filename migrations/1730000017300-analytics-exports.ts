// Exports of the analytics stream that run as a workflow (docs/analytics.md,
// "Export"): one row per export records its filters, how far the writer got
// and, once done, the file under the data dir and the key its download links
// are signed with. A customer's removal takes its exports. The second index
// serves incremental pulls (`?after=<seq>`) of one customer's events.
import { type MigrationInterface, type QueryRunner } from 'typeorm';
import { enableTenantRls } from './lib/rls';

export class AnalyticsExports1730000017300 implements MigrationInterface {
  name = 'AnalyticsExports1730000017300';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE analytics_exports (
        tenant_id uuid NOT NULL,
        id text NOT NULL CHECK (id ~ '^exp_[0-9a-z]{26}$'),
        customer_id text NOT NULL,
        format text NOT NULL CHECK (format IN ('csv', 'ndjson')),
        filters jsonb NOT NULL CHECK (jsonb_typeof(filters) = 'object'),
        status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'completed', 'failed')),
        rows_total bigint,
        rows_written bigint NOT NULL DEFAULT 0,
        bytes_written bigint NOT NULL DEFAULT 0,
        file_name text CHECK (file_name ~ '^[A-Za-z0-9._-]{1,200}$'),
        link_key bytea NOT NULL CHECK (octet_length(link_key) = 32),
        error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        completed_at timestamptz,
        PRIMARY KEY (tenant_id, id),
        FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE
      )`);
    await q.query('CREATE INDEX analytics_exports_customer_idx ON analytics_exports (tenant_id, customer_id, created_at)');
    await enableTenantRls(q, 'analytics_exports');
    await q.query('CREATE INDEX analytics_events_customer_seq_idx ON analytics_events (tenant_id, customer_id, seq)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX analytics_events_customer_seq_idx');
    await q.query('DROP TABLE analytics_exports');
  }
}
