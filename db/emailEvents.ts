// A provider's reply or bounce on a sent message, as the statement that
// writes its families: the reply's inbound message and its conversation, the
// lead's status and the enrollment's end (one round trip, not four), and a
// second that counts the reply as unread only when the first stored it. The
// message it answers is found in db/messages.ts.
import { type EntityManager } from 'typeorm';
import { CONVERSATION_UPSERT_RETURNING, conversationEvent, eventInsert } from './analyticsEvents';
import { newId } from './ids';
import { type EventMessageRow, lastStepSentBefore } from './messages';

/**
 * Records the outcome of `msg`: a reply's inbound message (once per
 * Message-ID) in the conversation of its (inbox, lead) — found or made; a new
 * reply counts as unread there and reopens it when closed or snoozed — the
 * lead's status, and — when `stops` — the enrollment's end. The unread count
 * hangs on the message row this call inserted, so the same reply stored at
 * once by the mailbox reader (db/inboundMail.ts) is counted once: the later
 * of the two inserts nothing and changes nothing. Its events are written by
 * the same statements (docs/analytics.md): the reply's `message.replied`
 * hangs on the inbound insert, so the webhook and the mailbox reader give one
 * event; a bounce's `message.bounced` is keyed by the outbound message
 * `msg.id` (without it, the enrollment's last sent one); a conversation made
 * or reopened writes its `conversation.opened`.
 */
export async function recordReplyOrBounce(
  m: EntityManager,
  tenantId: string,
  msg: Omit<EventMessageRow, 'id' | 'enrollment_status'> & { id?: string },
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
       RETURNING ${CONVERSATION_UPSERT_RETURNING}),
     conv_opened AS (${conversationEvent('conv', 'conversation.opened', 'created_at', 'conv.inserted')}),
     inbound AS (
       INSERT INTO messages (tenant_id, id, customer_id, campaign_id, enrollment_id, lead_id, inbox_id, direction, status, message_id, subject, body, from_email, conversation_id)
       SELECT $1::uuid, $2, $3, $4, $5, $6, $7, 'inbound', 'received', $8, $9, $10, $14,
              coalesce((SELECT id FROM conv), (SELECT c.id FROM conversations c WHERE c.inbox_id = $7 AND c.lead_id = $6))
        WHERE $11 = 'replied'
       ON CONFLICT (tenant_id, message_id) DO NOTHING
       RETURNING id, customer_id, campaign_id, enrollment_id, lead_id, conversation_id, created_at),
     replied AS (${eventInsert('inbound', {
       type: "'message.replied'",
       occurredAt: 'inbound.created_at',
       customerId: 'inbound.customer_id',
       campaignId: 'inbound.campaign_id',
       step: lastStepSentBefore('inbound.enrollment_id', 'inbound.created_at'),
       enrollmentId: 'inbound.enrollment_id',
       messageId: 'inbound.id',
       leadId: 'inbound.lead_id',
       conversationId: 'inbound.conversation_id',
       dedupeKey: "'message.replied:' || inbound.id",
     })}),
     bounced AS (${eventInsert(
       `(SELECT o.* FROM messages o
          WHERE $11 = 'bounced' AND o.direction = 'outbound'
            AND o.id = coalesce($15::text, (SELECT x.id FROM messages x WHERE x.enrollment_id = $5 AND x.direction = 'outbound' AND x.sent_at IS NOT NULL
                                             ORDER BY x.sent_at DESC, x.step DESC LIMIT 1))) b`,
       {
         type: "'message.bounced'",
         customerId: 'b.customer_id',
         campaignId: 'b.campaign_id',
         step: `coalesce(${lastStepSentBefore('b.enrollment_id', 'now()')}, b.step)`,
         enrollmentId: 'b.enrollment_id',
         messageId: 'b.id',
         leadId: 'b.lead_id',
         conversationId: 'b.conversation_id',
         dedupeKey: "'message.bounced:' || b.id",
       },
     )}),
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
      msg.id ?? null,
    ],
  );
  if (event.outcome === 'replied') {
    await m.query(
      `WITH seen AS (
         UPDATE conversations c SET unread_count = c.unread_count + 1, status = 'open', snoozed_until = NULL,
                last_message_at = greatest(c.last_message_at, now()), updated_at = now()
           FROM (SELECT id, status FROM conversations WHERE id = (SELECT conversation_id FROM messages WHERE id = $1)) was
          WHERE c.id = was.id
         RETURNING c.id, c.customer_id, c.lead_id, c.updated_at, was.status AS was)
       ${conversationEvent('seen', 'conversation.opened', 'updated_at', "seen.was = 'closed'")}`,
      [event.inboundId],
    );
  }
}
