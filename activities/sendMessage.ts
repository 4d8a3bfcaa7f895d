// Activities of sendMessage: one message written by hand, sent through the
// send path sequences use (docs/architecture.md, "Manual messages"). A slot
// of the inbox's daily cap keyed by the message and one send of the
// tenant's monthly quota are taken in one transaction, in the sequence
// path's lock order (the account, then the inbox); the message is recorded
// as sending before the provider is called, and a retry that finds it
// sending over SMTP marks it uncertain rather than send it again. Inputs and
// outcomes carry ids and instants only. The statements are in db/ (messages,
// sendSlots, sendQuota, sends).
import { ApplicationFailure } from '@temporalio/common';
import { readInboxSender } from '../db/inboxes';
import {
  failManualMessage,
  lockManualSend,
  markManualSending,
  markManualRetrying,
  markMessageFailed,
  markMessageQueued,
  markMessageUncertain,
  readManualSend,
  recordMessageAccepted,
  threadHeaders,
} from '../db/messages';
import { takeSendAllowance } from '../db/sendQuota';
import { takeMessageSlot } from '../db/sends';
import { lockInboxesWithDayUsage, readMessageSlot } from '../db/sendSlots';
import { withTenant } from '../db/tenantContext';
import { localDate, nextLocalMidnight } from '../lib/schedule';
import {
  MESSAGE_NOT_RECORDED,
  RECORD_GRACE_MS,
  type MessageAttemptOutcome,
  type MessageSendOutcome,
  type SendMessageAttempt,
  type SendMessageInput,
} from '../workflows/sendMessage.contract';
import { type OutreachDeps } from './enrollLead';
import { providerForInbox } from './providers/inboxProvider';
import { SEND_REJECTED } from '../workflows/enrollLead.contract';
import { PROVIDER_NOT_CONFIGURED } from '../workflows/provisionEmailOutreach.contract';

const INTERRUPTED_SEND = 'an earlier attempt ended mid-send; SMTP cannot tell whether it was accepted, so it was not sent again';
const SUPPRESSED = 'the address is on the suppression list (unsubscribed or bounced): nothing was sent';
const INBOX_GONE = 'the inbox this message was to be sent from is gone: nothing was sent';

const GONE: MessageSendOutcome = { outcome: 'gone' };

/** Failure types the workflow does not retry (its policy's non-retryable types). */
const FINAL_SEND_ERRORS = new Set([SEND_REJECTED, PROVIDER_NOT_CONFIGURED]);

export function createSendMessageActivities(deps: OutreachDeps) {
  const ds = deps.dataSource;

  /**
   * Takes the message's slot and one send of the month, or says why not. A
   * message that has its slot (or has gone past queued) goes on to the send.
   * A full day answers the instant the inbox's next day begins; used-up sends
   * answer the billing path's wait (`waitingFor`, `retryAt`). Either way the
   * message stays queued, with until when on the row.
   */
  async function reserve(input: SendMessageAttempt): Promise<{ granted: true } | MessageAttemptOutcome> {
    return withTenant(ds, input.tenantId, async (m) => {
      const msg = await readManualSend(m, input.messageId);
      if (!msg) return GONE;
      if (msg.status !== 'queued') return { granted: true };
      const slot = await readMessageSlot(m, msg.id, msg.inbox_id);
      if (slot.reserved) return { granted: true };
      // No send of the month is taken for an address that will not be sent to.
      if (msg.suppressed) {
        await failManualMessage(m, msg.id, SUPPRESSED);
        return { outcome: 'suppressed' };
      }
      // The account lock comes before the inbox lock, always in this order.
      const allowance = await takeSendAllowance(m, input.at);
      if (!allowance.granted) {
        await markMessageQueued(m, msg.id, allowance.retryAt !== null ? new Date(allowance.retryAt) : null);
        return { outcome: 'not_granted', granted: false, waitingFor: allowance.waitingFor, retryAt: allowance.retryAt };
      }
      const day = localDate(input.at, slot.timezone);
      const [inbox] = await lockInboxesWithDayUsage(m, [msg.inbox_id], day);
      if (!inbox) {
        await failManualMessage(m, msg.id, INBOX_GONE);
        return GONE;
      }
      if (inbox.used >= inbox.daily_cap) {
        const next = nextLocalMidnight(input.at, slot.timezone);
        await markMessageQueued(m, msg.id, new Date(next));
        return { outcome: 'not_granted', granted: false, retryAt: next };
      }
      await takeMessageSlot(m, { inboxId: inbox.id, day, messageRowId: msg.id }, allowance);
      return { granted: true };
    });
  }

  /**
   * Sends the message exactly once: 'sending' is committed before the
   * provider is called, and a retry decides from the row — accepted: done;
   * sending: the earlier attempt died mid-send, so an idempotent provider is
   * asked again with the same key and SMTP is never repeated (uncertain).
   * The address is checked against the suppression list again here.
   */
  async function send(input: SendMessageAttempt): Promise<MessageSendOutcome> {
    const prepared = await withTenant(ds, input.tenantId, async (m) => {
      const msg = await lockManualSend(m, input.messageId);
      if (!msg) return { done: GONE };
      if (msg.status === 'accepted') return { done: { outcome: 'already_sent' } as MessageSendOutcome };
      if (msg.status === 'uncertain') return { done: { outcome: 'uncertain' } as MessageSendOutcome };
      const inbox = await readInboxSender(m, msg.inbox_id);
      if (msg.status === 'queued' || msg.status === 'failed') {
        if (msg.suppressed) {
          await failManualMessage(m, msg.id, SUPPRESSED);
          return { done: { outcome: 'suppressed' } as MessageSendOutcome };
        }
        if (!inbox) {
          await failManualMessage(m, msg.id, INBOX_GONE);
          return { done: GONE };
        }
      } else if (!inbox) {
        // Sending, and its inbox is gone: whatever the earlier attempt did cannot be asked again.
        await markMessageUncertain(m, msg.id, INTERRUPTED_SEND, new Date(input.at));
        return { done: { outcome: 'uncertain' } as MessageSendOutcome };
      }
      // The provider before the record: one that cannot be used fails the message unsent (below).
      const provider = await providerForInbox(deps, m, input.tenantId, inbox!);
      const recorded = msg.status !== 'sending';
      // 1. Record before sending.
      if (recorded) await markManualSending(m, msg.id);
      const thread = input.reply ? await threadHeaders(m, msg.conversation_id, { id: msg.id, createdAt: msg.created_at }) : undefined;
      return { msg, inbox: inbox!, recorded, thread, provider };
    }).catch(async (err: unknown) => {
      // A provider that cannot be used (not configured): a message not yet
      // handed over fails unsent, with the reason; one an earlier attempt left
      // mid-send may have gone out, and is uncertain (each statement matches
      // only its own status).
      if (err instanceof ApplicationFailure && err.nonRetryable) {
        await withTenant(ds, input.tenantId, async (m) => {
          await failManualMessage(m, input.messageId, err.message.slice(0, 500));
          await markMessageUncertain(m, input.messageId, INTERRUPTED_SEND, new Date(input.at));
        });
      }
      throw err;
    });
    if ('done' in prepared) return prepared.done!;
    const { msg, inbox, recorded, thread, provider } = prepared;

    // 2. Reconcile with an earlier attempt that died after its record.
    if (!recorded && !provider.idempotent) {
      await withTenant(ds, input.tenantId, (m) => markMessageUncertain(m, msg.id, INTERRUPTED_SEND, new Date(input.at)));
      return { outcome: 'uncertain' };
    }

    // 3. Send.
    const headers: Record<string, string> = {};
    if (thread?.inReplyTo) headers['In-Reply-To'] = thread.inReplyTo;
    if (thread && thread.references.length > 0) headers.References = thread.references.join(' ');
    let result: { providerMessageId: string };
    try {
      result = await provider.send({
        messageId: msg.message_id,
        idempotencyKey: `${input.tenantId}/${msg.id}`,
        from: { email: inbox.from_email, name: inbox.from_name },
        to: msg.email,
        subject: msg.subject,
        text: msg.body,
        headers,
      });
    } catch (err) {
      // Nothing was accepted. Refused for good: failed, with the reason. A
      // fault that may pass (the server unreachable, a deferral): queued
      // again with the reason beside it, since the next attempt sends it —
      // the person who wrote it must not read "failed" and write it twice.
      const reason = (err as Error).message.slice(0, 500);
      const final = err instanceof ApplicationFailure && (err.nonRetryable || FINAL_SEND_ERRORS.has(err.type ?? ''));
      await withTenant(ds, input.tenantId, (m) => (final ? markMessageFailed(m, msg.id, reason) : markManualRetrying(m, msg.id, reason)));
      throw err;
    }

    // 4. Record the acceptance.
    await withTenant(ds, input.tenantId, (m) =>
      recordMessageAccepted(m, { messageRowId: msg.id, providerMessageId: result.providerMessageId, sentAt: new Date(input.at) }),
    );
    return { outcome: 'sent' };
  }

  return {
    /**
     * Whether the message is recorded yet: its workflow is started inside
     * the request that records it, so the first attempts may come before
     * that request commits (and none finds it when it rolled back).
     */
    async awaitMessageRecorded(input: SendMessageInput & { startedAt: number }): Promise<void> {
      const found = await withTenant(ds, input.tenantId, (m) => readManualSend(m, input.messageId));
      if (found) return;
      if (Date.now() - input.startedAt > RECORD_GRACE_MS) {
        throw ApplicationFailure.nonRetryable('the message was never recorded: its request rolled back', MESSAGE_NOT_RECORDED);
      }
      throw ApplicationFailure.retryable('the message is not recorded yet', 'message_not_recorded_yet');
    },

    /** One attempt at the message's send: the slot and the month's send, then, when granted, the send itself. */
    async reserveAndSendMessage(input: SendMessageAttempt): Promise<MessageAttemptOutcome> {
      const slot = await reserve(input);
      if ('outcome' in slot) return slot;
      return send(input);
    },
  };
}
