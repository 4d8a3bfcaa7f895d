// A provider's reply or bounce on a sent message, as the one statement that
// writes its three families: the reply's inbound message, the lead's status
// and the enrollment's end (one round trip, not three). The message it
// answers is found in db/messages.ts.
import { type EntityManager } from 'typeorm';
import { type EventMessageRow } from './messages';

/**
 * Records the outcome of `msg`: a reply's inbound message (once per
 * Message-ID), the lead's status, and — when `stops` — the enrollment's end.
 */
export async function recordReplyOrBounce(
  m: EntityManager,
  tenantId: string,
  msg: Omit<EventMessageRow, 'id' | 'enrollment_status'>,
  event: { inboundId: string; inboundMessageId: string; subject: string; body: string; outcome: 'replied' | 'bounced'; stops: boolean },
): Promise<void> {
  await m.query(
    `WITH inbound AS (
       INSERT INTO messages (tenant_id, id, customer_id, campaign_id, enrollment_id, lead_id, inbox_id, direction, status, message_id, subject, body)
       SELECT $1::uuid, $2, $3, $4, $5, $6, $7, 'inbound', 'received', $8, $9, $10 WHERE $11 = 'replied'
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
    ],
  );
}
