// The conversation list's own order (docs/architecture.md, "Conversations"):
// a customer's conversations latest first, or those with unread messages
// first. The first index put the stored status before the time, but the list
// reads status through the snooze's end (a snoozed conversation whose time
// has passed is open), so no filter could use that column and every page
// sorted the customer's conversations. These two indexes give each order an
// index scan that stops at the page.
import { type MigrationInterface, type QueryRunner } from 'typeorm';

export class ConversationListIndex1730000016400 implements MigrationInterface {
  name = 'ConversationListIndex1730000016400';

  async up(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX conversations_list_idx');
    await q.query('CREATE INDEX conversations_page_idx ON conversations (tenant_id, customer_id, last_message_at DESC, id DESC)');
    await q.query(
      'CREATE INDEX conversations_unread_page_idx ON conversations (tenant_id, customer_id, ((unread_count > 0)::int) DESC, last_message_at DESC, id DESC)',
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX conversations_unread_page_idx');
    await q.query('DROP INDEX conversations_page_idx');
    await q.query('CREATE INDEX conversations_list_idx ON conversations (tenant_id, customer_id, status, last_message_at DESC, id DESC)');
  }
}
