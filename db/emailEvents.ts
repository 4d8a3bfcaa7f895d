// A provider's reply or bounce on a sent message, as the statement that
// writes its families: the reply's inbound message and its conversation, the
// lead's status and the enrollment's end (one round trip, not four), and a
// second that counts the reply as unread only when the first stored it. The
// message it answers is found in db/messages.ts.
import { type EntityManager } from 'typeorm';
import { newId } from './ids';
import { type EventMessageRow } from './messages';

/**
 * Records the outcome of `msg`: a reply's inbound message (once per
 * Message-ID) in the conversation of its (inbox, lead) — found or made; a new
 * reply counts as unread there and reopens it when closed or snoozed — the
 * lead's status, and — when `stops` — the enrollment's end. The unread count
 * hangs on the message row this call inserted, so the same reply stored at
 * once by the mailbox reader (db/inboundMail.ts) is counted once: the later
 * of the two inserts nothing and changes nothing.
 */
export async function recordReplyOrBounce(
  m: EntityManager,
  tenantId: string,
  msg: Omit<EventMessageRow, 'id' | 'enrollment_status'>,
  event: {
    inboundId: string;
    inboundMessageId: string;
    subject: string;
    body: string;
    outcome: 'replied' | 'bounced';
    stops: boolean;
    fromEmail?: string | null;
  },
): Promise<void> {
  await m.query(
    `WITH conv AS (
       INSERT INTO conversations (tenant_id, id, customer_id, inbox_id, lead_id, subject)
       SELECT $1::uuid, $13, $3, $7, $6, $9
        WHERE $11 = 'replied' AND $7::text IS NOT NULL AND NOT EXISTS (SELECT 1 FROM messages WHERE message_id = $8)
       ON CONFLICT (tenant_id, inbox_id, lead_id) DO UPDATE SET updated_at = conversations.updated_at
       RETURNING id),
     inbound AS (
       INSERT INTO messages (tenant_id, id, customer_id, campaign_id, enrollment_id, lead_id, inbox_id, direction, status, message_id, subject, body, from_email, conversation_id)
       SELECT $1::uuid, $2, $3, $4, $5, $6, $7, 'inbound', 'received', $8, $9, $10, $14,
              coalesce((SELECT id FROM conv), (SELECT c.id FROM conversations c WHERE c.inbox_id = $7 AND c.lead_id = $6))
        WHERE $11 = 'replied'
       ON CONFLICT (tenant_id, message_id) DO NOTHING),
     lead AS (
       UPDATE leads SET status = $11, updated_at = now() WHERE id = $6 AND (status = 'active' OR $11 = 'bounced'))
     UPDATE enrollments SET status = $11, next_send_at = NULL, updated_at = now() WHERE id = $5 AND $12`,
    [
      tenantId,
      event.inboundId,
      msg.customer_id,
      msg.campaign_id,
      msg.enrollment_id,
      msg.lead_id,
      msg.inbox_id,
      event.inboundMessageId,
      event.subject,
      event.body,
      event.outcome,
      event.stops,
      newId('conv'),
      event.fromEmail ?? null,
    ],
  );
  if (event.outcome === 'replied') {
    await m.query(
      `UPDATE conversations SET unread_count = unread_count + 1, status = 'open', snoozed_until = NULL,
              last_message_at = greatest(last_message_at, now()), updated_at = now()
        WHERE id = (SELECT conversation_id FROM messages WHERE id = $1)`,
      [event.inboundId],
    );
  }
}
