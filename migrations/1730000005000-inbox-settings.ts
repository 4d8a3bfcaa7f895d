// Sender inboxes managed in Tenantflow: SMTP settings with the password sealed,
// and one inbox per address per customer.
import { type MigrationInterface, type QueryRunner } from 'typeorm';

export class InboxSettings1730000005000 implements MigrationInterface {
  name = 'InboxSettings1730000005000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE inboxes
        ADD COLUMN smtp_host text,
        ADD COLUMN smtp_port integer CHECK (smtp_port BETWEEN 1 AND 65535),
        ADD COLUMN smtp_secure boolean,
        ADD COLUMN smtp_user text,
        ADD COLUMN smtp_password_ciphertext text,
        ADD COLUMN smtp_password_key_id text,
        ADD CONSTRAINT inboxes_smtp_settings CHECK (provider <> 'smtp' OR (smtp_host IS NOT NULL AND smtp_port IS NOT NULL AND smtp_secure IS NOT NULL)),
        ADD CONSTRAINT inboxes_smtp_password_key CHECK ((smtp_password_ciphertext IS NULL) = (smtp_password_key_id IS NULL))`);
    await q.query('CREATE UNIQUE INDEX inboxes_customer_email_key ON inboxes (tenant_id, customer_id, provider, from_email)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX inboxes_customer_email_key');
    await q.query(`
      ALTER TABLE inboxes DROP CONSTRAINT inboxes_smtp_password_key, DROP CONSTRAINT inboxes_smtp_settings,
        DROP COLUMN smtp_host, DROP COLUMN smtp_port, DROP COLUMN smtp_secure, DROP COLUMN smtp_user,
        DROP COLUMN smtp_password_ciphertext, DROP COLUMN smtp_password_key_id`);
  }
}
