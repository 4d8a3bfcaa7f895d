// Inbound mail read from an inbox's own mailbox (docs/architecture.md,
// "Conversations"; docs/providers.md, "IMAP"). An SMTP inbox may carry IMAP
// settings, its password sealed like the SMTP one; the reader's checkpoint
// (UIDVALIDITY and the last UID stored) lives in its own table, one row per
// inbox, written in the transaction that stores the mail it covers. An
// inbound message keeps its sender, whether it was an auto-reply, and an
// HTML body (untrusted: the console sanitizes it when it renders it); its
// attachments are rows of their own, their bytes kept up to a size limit.
// A campaign may say that auto-replies stop its sequence too.
import { type MigrationInterface, type QueryRunner } from 'typeorm';
import { enableTenantRls } from './lib/rls';

export class InboundMail1730000016200 implements MigrationInterface {
  name = 'InboundMail1730000016200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE inboxes
        ADD COLUMN imap_host text,
        ADD COLUMN imap_port integer CHECK (imap_port BETWEEN 1 AND 65535),
        ADD COLUMN imap_secure boolean,
        ADD COLUMN imap_user text,
        ADD COLUMN imap_password_ciphertext text,
        ADD COLUMN imap_password_key_id text,
        ADD CONSTRAINT inboxes_imap_settings CHECK (
          (imap_host IS NULL) = (imap_port IS NULL) AND (imap_host IS NULL) = (imap_secure IS NULL) AND (imap_host IS NULL OR provider = 'smtp')),
        ADD CONSTRAINT inboxes_imap_password_key CHECK ((imap_password_ciphertext IS NULL) = (imap_password_key_id IS NULL))`);

    await q.query(`
      CREATE TABLE inbox_mailboxes (
        tenant_id uuid NOT NULL,
        inbox_id text NOT NULL,
        uid_validity bigint,
        last_uid bigint NOT NULL DEFAULT 0 CHECK (last_uid >= 0),
        stored integer NOT NULL DEFAULT 0,
        synced_at timestamptz,
        error text,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, inbox_id),
        FOREIGN KEY (tenant_id, inbox_id) REFERENCES inboxes (tenant_id, id) ON DELETE CASCADE
      )`);
    await enableTenantRls(q, 'inbox_mailboxes');

    await q.query(`
      ALTER TABLE messages
        ADD COLUMN from_email text,
        ADD COLUMN body_html text,
        ADD COLUMN auto_reply boolean NOT NULL DEFAULT false,
        ADD COLUMN queued_until timestamptz`);

    await q.query(`
      CREATE TABLE message_attachments (
        tenant_id uuid NOT NULL,
        id text NOT NULL CHECK (id ~ '^att_[0-9a-z]{26}$'),
        message_id text NOT NULL,
        customer_id text NOT NULL,
        filename text,
        content_type text NOT NULL,
        size integer NOT NULL CHECK (size >= 0),
        content bytea,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id),
        FOREIGN KEY (tenant_id, message_id) REFERENCES messages (tenant_id, id) ON DELETE CASCADE,
        FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE
      )`);
    await q.query('CREATE INDEX message_attachments_message_idx ON message_attachments (tenant_id, message_id)');
    await enableTenantRls(q, 'message_attachments');

    await q.query('ALTER TABLE campaigns ADD COLUMN auto_reply_stops boolean NOT NULL DEFAULT false');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE campaigns DROP COLUMN auto_reply_stops');
    await q.query('DROP TABLE message_attachments');
    await q.query('ALTER TABLE messages DROP COLUMN from_email, DROP COLUMN body_html, DROP COLUMN auto_reply, DROP COLUMN queued_until');
    await q.query('DROP TABLE inbox_mailboxes');
    await q.query(`
      ALTER TABLE inboxes DROP CONSTRAINT inboxes_imap_password_key, DROP CONSTRAINT inboxes_imap_settings,
        DROP COLUMN imap_host, DROP COLUMN imap_port, DROP COLUMN imap_secure, DROP COLUMN imap_user,
        DROP COLUMN imap_password_ciphertext, DROP COLUMN imap_password_key_id`);
  }
}
