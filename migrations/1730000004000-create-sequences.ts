// Sequences: ordered e-mail steps owned by one customer. Campaigns take
// versioned snapshots of them, so editing a sequence never changes what running
// enrollments send.
import { type MigrationInterface, type QueryRunner } from 'typeorm';
import { enableTenantRls } from './lib/rls';

export class CreateSequences1730000004000 implements MigrationInterface {
  name = 'CreateSequences1730000004000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sequences (
        tenant_id uuid NOT NULL,
        id text NOT NULL CHECK (id ~ '^seq_[0-9a-z]{26}$'),
        customer_id text NOT NULL,
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id),
        FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE
      )`);
    await q.query('CREATE INDEX sequences_customer_idx ON sequences (tenant_id, customer_id, id)');
    await enableTenantRls(q, 'sequences');

    await q.query(`
      CREATE TABLE sequence_steps (
        tenant_id uuid NOT NULL,
        id text NOT NULL CHECK (id ~ '^stp_[0-9a-z]{26}$'),
        sequence_id text NOT NULL,
        position integer NOT NULL CHECK (position >= 1),
        subject text NOT NULL CHECK (length(subject) BETWEEN 1 AND 300),
        body text NOT NULL CHECK (length(body) BETWEEN 1 AND 50000),
        delay_hours integer NOT NULL CHECK (delay_hours BETWEEN 0 AND 8760),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id),
        UNIQUE (tenant_id, sequence_id, position) DEFERRABLE INITIALLY DEFERRED,
        FOREIGN KEY (tenant_id, sequence_id) REFERENCES sequences (tenant_id, id) ON DELETE CASCADE
      )`);
    await enableTenantRls(q, 'sequence_steps');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE sequence_steps');
    await q.query('DROP TABLE sequences');
  }
}
