// A manual message's send slot (docs/architecture.md, "Manual messages"): a
// message written by hand is no sequence step, so its slot of the inbox's
// daily cap is keyed by its own message id. enrollment_id and step become
// nullable and exactly one key is set on every row. The sequence path's key
// (tenant, enrollment, step) stays unique — it is what a retried step finds
// its slot by — and so is (tenant, message); a primary key cannot span
// nullable columns, so both are unique constraints. Like enrollment_id, the
// message id is no foreign key: a slot stays counted on its day when its
// message or enrollment is removed, so removing a lead never reopens a cap.
// Queued messages get a partial index: the billing workflow lists them when
// it releases the tenant's sends.
import { type MigrationInterface, type QueryRunner } from 'typeorm';
import { acrossTenants } from './lib/rls';

export class ManualSendSlots1730000016300 implements MigrationInterface {
  name = 'ManualSendSlots1730000016300';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE inbox_send_slots
        DROP CONSTRAINT inbox_send_slots_pkey,
        ALTER COLUMN enrollment_id DROP NOT NULL,
        ALTER COLUMN step DROP NOT NULL,
        ADD COLUMN message_id text,
        ADD CONSTRAINT inbox_send_slots_step_key UNIQUE (tenant_id, enrollment_id, step),
        ADD CONSTRAINT inbox_send_slots_message_key UNIQUE (tenant_id, message_id),
        ADD CONSTRAINT inbox_send_slots_one_key CHECK (
          (enrollment_id IS NULL) = (step IS NULL) AND (message_id IS NULL) = (enrollment_id IS NOT NULL))`);
    // The billing workflow wakes the messages that wait (a released quota): few rows of a large table.
    await q.query("CREATE INDEX messages_queued_idx ON messages (tenant_id, id) WHERE status = 'queued'");
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX messages_queued_idx');
    await acrossTenants(q, ['inbox_send_slots'], () => q.query('DELETE FROM inbox_send_slots WHERE message_id IS NOT NULL'));
    await q.query(`
      ALTER TABLE inbox_send_slots
        DROP CONSTRAINT inbox_send_slots_one_key,
        DROP CONSTRAINT inbox_send_slots_message_key,
        DROP CONSTRAINT inbox_send_slots_step_key,
        DROP COLUMN message_id,
        ALTER COLUMN enrollment_id SET NOT NULL,
        ALTER COLUMN step SET NOT NULL,
        ADD PRIMARY KEY (tenant_id, enrollment_id, step)`);
  }
}
