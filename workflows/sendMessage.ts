// sendMessage: one message written by hand (a reply in a conversation, or a
// one-off to a lead), sent through the send path sequences use
// (docs/architecture.md, "Manual messages"). It is not held to a campaign's
// send window: it takes a slot of its inbox's daily cap and one send of the
// tenant's month at once, and when the inbox's day is full it waits, queued,
// until the inbox's next day begins; when the month's sends are used up (or
// the tenant is restricted) it waits for the billing workflow's release or
// the next usage period. Then it sends exactly once (record before send;
// `uncertain` when an SMTP send died mid-way).
//
// History holds ids, instants and outcomes only — never an address, subject
// or body.
import { ActivityFailure, condition, proxyLocalActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { SEND_REJECTED } from './enrollLead.contract';
import { PROVIDER_NOT_CONFIGURED } from './provisionEmailOutreach.contract';
import { MESSAGE_NOT_RECORDED, type MessageSendOutcome, quotaReleasedSignal, type SendMessageInput } from './sendMessage.contract';

export * from './sendMessage.contract';

// The request that records the message starts this workflow inside its
// transaction: the first look may come before the commit. Quick retries
// cover that; the activity gives up (MESSAGE_NOT_RECORDED) only once the
// row is still missing RECORD_GRACE_MS after the start — the request rolled
// back and left nothing to send. Any other failure (the database down) is
// retried for as long as it lasts: a recorded message is never left queued
// without its workflow.
const { awaitMessageRecorded } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '30 seconds', nonRetryableErrorTypes: [MESSAGE_NOT_RECORDED] },
  localRetryThreshold: '10 seconds',
});

// Like a sequence step's send (workflows/enrollLead.ts), one local activity
// takes the slot and sends: safe to repeat, since the message is recorded
// before the SMTP call and an attempt that finds its own unfinished record
// does not send again.
const { reserveAndSendMessage } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumInterval: '5 minutes', nonRetryableErrorTypes: [SEND_REJECTED, PROVIDER_NOT_CONFIGURED] },
  localRetryThreshold: '10 seconds',
});

export type SendMessageResult = MessageSendOutcome | { outcome: 'failed' } | { outcome: 'not_recorded' };

export async function sendMessage(input: SendMessageInput): Promise<SendMessageResult> {
  let released = false;
  setHandler(quotaReleasedSignal, () => void (released = true));

  try {
    await awaitMessageRecorded({ ...input, startedAt: Date.now() });
  } catch (err) {
    if (err instanceof ActivityFailure) return { outcome: 'not_recorded' };
    throw err;
  }

  for (;;) {
    released = false;
    let result;
    try {
      result = await reserveAndSendMessage({ ...input, at: Date.now() });
    } catch (err) {
      // Refused for good (the provider refused the message, or is not
      // configured): the row says failed, with the reason.
      if (err instanceof ActivityFailure) return { outcome: 'failed' };
      throw err;
    }
    if (result.outcome !== 'not_granted') return result;
    // Queued: until the inbox's next day, the next usage period, or the billing workflow's release.
    const ms = result.retryAt != null ? result.retryAt - Date.now() : undefined;
    await condition(() => released, ms !== undefined ? Math.max(ms, 1) : undefined);
  }
}
