// The send, one step of an enrollment, as the statements that write several
// families at once: taking the step's slot (the inbox's slot, the tenant's
// booking, the enrollment's inbox) and recording the provider's acceptance
// (the message, the enrollment's count). Each is one statement, so the send
// spends as few round trips as it can while the tenant's account is locked.
// The reads that decide a send are with their tables: db/sendSlots.ts,
// db/sendQuota.ts, db/enrollments.ts, db/messages.ts.
import { type EntityManager } from 'typeorm';
import { eventInsert, MESSAGE_REF_COLUMNS, messageRefs } from './analyticsEvents';
import { type Allowance, bookingUpdate } from './sendQuota';

type Granted = Extract<Allowance, { granted: true }>;

// The slot, the account's booking and the enrollment's inbox (a lead's
// thread stays on the inbox it started from) in one statement.
const TAKE_SEND_SLOT = `WITH slot AS (
           INSERT INTO inbox_send_slots (tenant_id, inbox_id, day, enrollment_id, step, paid_by)
           VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, $4, $5)),
         booked AS (${bookingUpdate(6)})
         UPDATE enrollments SET inbox_id = coalesce(inbox_id, $1), waiting_for = NULL WHERE id = $3`;

/**
 * Takes the step's slot of the inbox's `day` and books the send on the
 * tenant's account (`allowance`, taken under the account lock by
 * takeSendAllowance); the enrollment keeps the inbox and stops waiting.
 */
export async function takeSendSlot(
  m: EntityManager,
  slot: { inboxId: string; day: string; enrollmentId: string; step: number },
  allowance: Pick<Granted, 'paidBy' | 'booking'>,
): Promise<void> {
  await m.query(TAKE_SEND_SLOT, [slot.inboxId, slot.day, slot.enrollmentId, slot.step, allowance.paidBy, ...allowance.booking]);
}

/** Records the provider's acceptance of the step's message and counts the send on the enrollment, in one statement. */
export async function recordSendAccepted(
  m: EntityManager,
  sent: { messageRowId: string; providerMessageId: string; sentAt: Date; enrollmentId: string; step: number },
): Promise<void> {
  // The message's `message.sent` hangs on the acceptance's RETURNING: the
  // same statement, so the event and the send commit or roll back together.
  await m.query(
    `WITH accepted AS (
           UPDATE messages SET status = 'accepted', provider_message_id = $2, sent_at = $3, error = NULL, updated_at = now() WHERE id = $1
           RETURNING ${MESSAGE_REF_COLUMNS}, sent_at),
         sent_event AS (${eventInsert('accepted', {
           type: "'message.sent'",
           occurredAt: 'accepted.sent_at',
           ...messageRefs('accepted'),
           dedupeKey: "'message.sent:' || accepted.id",
         })})
         UPDATE enrollments SET sent = sent + 1, current_step = greatest(current_step, $5), last_error = NULL, updated_at = now() WHERE id = $4`,
    [sent.messageRowId, sent.providerMessageId, sent.sentAt, sent.enrollmentId, sent.step],
  );
}

// A manual message's slot, keyed by the message itself, and the account's
// booking, in one statement; the message stops being queued.
const TAKE_MESSAGE_SLOT = `WITH slot AS (
           INSERT INTO inbox_send_slots (tenant_id, inbox_id, day, message_id, paid_by)
           VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, $4)),
         booked AS (${bookingUpdate(5)})
         UPDATE messages SET queued_until = NULL, updated_at = now() WHERE id = $3`;

/**
 * Takes a manual message's slot of the inbox's `day` and books the send on
 * the tenant's account (`allowance`, taken under the account lock), as
 * takeSendSlot does for a step.
 */
export async function takeMessageSlot(
  m: EntityManager,
  slot: { inboxId: string; day: string; messageRowId: string },
  allowance: Pick<Granted, 'paidBy' | 'booking'>,
): Promise<void> {
  await m.query(TAKE_MESSAGE_SLOT, [slot.inboxId, slot.day, slot.messageRowId, allowance.paidBy, ...allowance.booking]);
}
