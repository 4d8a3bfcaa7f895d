// Conversations: one thread between one lead and one of the tenant's inboxes
// (docs/architecture.md, "Conversations"). Every message belongs to the
// conversation of its (inbox, lead); a message that is not a sequence step
// (origin 'manual', later 'automation') has no enrollment, campaign or step,
// so those become nullable and the old "outbound has a step" check becomes
// "a sequence message has its enrollment and campaign, and an outbound one
// its step". The send key (tenant, enrollment, step) WHERE outbound stays as
// it is: the send path's ON CONFLICT names exactly that predicate, and a
// manual message's NULL enrollment never collides in it. Existing messages
// join their conversations here; unread_count of a backfilled conversation is
// the number of inbound messages after its last outbound one. Like
// messages.inbox_id, a conversation's inbox is no foreign key: removing an
// inbox (allowed once no campaign sends from it) keeps the threads and the
// sent messages whose send keys make a send happen once; a lead's removal
// takes its conversations and their messages with it.
import { type MigrationInterface, type QueryRunner } from 'typeorm';
import { acrossTenants, enableTenantRls } from './lib/rls';

export class Conversations1730000016000 implements MigrationInterface {
  name = 'Conversations1730000016000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE conversations (
        tenant_id uuid NOT NULL,
        id text NOT NULL CHECK (id ~ '^conv_[0-9a-z]{26}$'),
        customer_id text NOT NULL,
        inbox_id text NOT NULL,
        lead_id text NOT NULL,
        status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed', 'snoozed')),
        snoozed_until timestamptz,
        assignee_member_id text,
        unread_count integer NOT NULL DEFAULT 0 CHECK (unread_count >= 0),
        last_message_at timestamptz NOT NULL DEFAULT now(),
        subject text NOT NULL DEFAULT '',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id),
        UNIQUE (tenant_id, inbox_id, lead_id),
        CHECK ((status = 'snoozed') = (snoozed_until IS NOT NULL)),
        FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE,
        FOREIGN KEY (tenant_id, lead_id) REFERENCES leads (tenant_id, id) ON DELETE CASCADE,
        FOREIGN KEY (tenant_id, assignee_member_id) REFERENCES memberships (tenant_id, id) ON DELETE SET NULL (assignee_member_id)
      )`);
    await q.query('CREATE INDEX conversations_list_idx ON conversations (tenant_id, customer_id, status, last_message_at DESC, id DESC)');
    await q.query('CREATE INDEX conversations_lead_idx ON conversations (tenant_id, lead_id)');
    await enableTenantRls(q, 'conversations');

    await q.query('ALTER TABLE messages ADD COLUMN conversation_id text');
    await q.query("ALTER TABLE messages ADD COLUMN origin text NOT NULL DEFAULT 'sequence' CHECK (origin IN ('sequence', 'manual', 'automation'))");
    await q.query('ALTER TABLE messages ALTER COLUMN enrollment_id DROP NOT NULL, ALTER COLUMN campaign_id DROP NOT NULL');
    await q.query('ALTER TABLE messages DROP CONSTRAINT messages_check, DROP CONSTRAINT messages_status_check');
    await q.query(
      "ALTER TABLE messages ADD CONSTRAINT messages_status_check CHECK (status IN ('queued', 'sending', 'accepted', 'uncertain', 'failed', 'render_error', 'received'))",
    );
    await q.query(`
      ALTER TABLE messages ADD CONSTRAINT messages_sequence_check CHECK (
        (origin <> 'sequence' OR (enrollment_id IS NOT NULL AND campaign_id IS NOT NULL))
        AND ((direction = 'outbound' AND origin = 'sequence') = (step IS NOT NULL)))`);
    await q.query(
      'ALTER TABLE messages ADD CONSTRAINT messages_conversation_fkey FOREIGN KEY (tenant_id, conversation_id) REFERENCES conversations (tenant_id, id) ON DELETE CASCADE',
    );
    await q.query('CREATE INDEX messages_conversation_idx ON messages (tenant_id, conversation_id, created_at, id)');

    await acrossTenants(q, ['messages', 'conversations', 'enrollments'], async () => {
      // The inbox of an inbound row is the one its outbound message went from;
      // a row that still names none falls back to its enrollment's inbox.
      //
      // One pass over the messages: each row's thread, the thread's last
      // outbound time beside it (a window), then per thread the inbound rows
      // after that time (its unread count).
      await q.query(`
        WITH placed AS (
          SELECT m.tenant_id, coalesce(m.inbox_id, e.inbox_id) AS inbox_id, m.lead_id, m.customer_id, m.direction,
                 m.created_at, m.sent_at, m.subject, m.id
            FROM messages m LEFT JOIN enrollments e ON e.tenant_id = m.tenant_id AND e.id = m.enrollment_id
           WHERE coalesce(m.inbox_id, e.inbox_id) IS NOT NULL),
        marked AS (
          SELECT p.*, max(p.created_at) FILTER (WHERE p.direction = 'outbound') OVER (PARTITION BY p.tenant_id, p.inbox_id, p.lead_id) AS last_outbound_at
            FROM placed p),
        threads AS (
          SELECT tenant_id, inbox_id, lead_id, min(customer_id) AS customer_id,
                 max(coalesce(sent_at, created_at)) AS last_message_at,
                 (array_agg(subject ORDER BY created_at, id) FILTER (WHERE subject <> ''))[1] AS subject,
                 count(*) FILTER (WHERE direction = 'inbound' AND (last_outbound_at IS NULL OR created_at > last_outbound_at)) AS unread
            FROM marked
           GROUP BY tenant_id, inbox_id, lead_id)
        INSERT INTO conversations (tenant_id, id, customer_id, inbox_id, lead_id, last_message_at, subject, unread_count)
        SELECT t.tenant_id, 'conv_' || substr(md5(t.tenant_id::text || '/' || t.inbox_id || '/' || t.lead_id), 1, 26), t.customer_id, t.inbox_id, t.lead_id,
               t.last_message_at, coalesce(t.subject, ''), t.unread
          FROM threads t`);
      await q.query(`
        UPDATE messages m SET conversation_id = c.id
          FROM conversations c
         WHERE c.tenant_id = m.tenant_id AND c.lead_id = m.lead_id
           AND c.inbox_id = coalesce(m.inbox_id, (SELECT e.inbox_id FROM enrollments e WHERE e.tenant_id = m.tenant_id AND e.id = m.enrollment_id))`);
    });
    // Whatever names an inbox belongs to that inbox's conversation.
    await q.query('ALTER TABLE messages ADD CONSTRAINT messages_conversation_check CHECK (conversation_id IS NOT NULL OR inbox_id IS NULL)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE messages DROP CONSTRAINT messages_conversation_check');
    await q.query('DROP INDEX messages_conversation_idx');
    await q.query('ALTER TABLE messages DROP CONSTRAINT messages_conversation_fkey');
    await acrossTenants(q, ['messages'], () => q.query("DELETE FROM messages WHERE origin <> 'sequence' OR status = 'queued'"));
    await q.query('ALTER TABLE messages DROP CONSTRAINT messages_sequence_check, DROP CONSTRAINT messages_status_check');
    await q.query(
      "ALTER TABLE messages ADD CONSTRAINT messages_status_check CHECK (status IN ('sending', 'accepted', 'uncertain', 'failed', 'render_error', 'received'))",
    );
    await q.query("ALTER TABLE messages ADD CONSTRAINT messages_check CHECK ((direction = 'outbound') = (step IS NOT NULL))");
    await q.query('ALTER TABLE messages ALTER COLUMN enrollment_id SET NOT NULL, ALTER COLUMN campaign_id SET NOT NULL');
    await q.query('ALTER TABLE messages DROP COLUMN origin, DROP COLUMN conversation_id');
    await q.query('DROP TABLE conversations');
  }
}
