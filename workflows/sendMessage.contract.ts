// The contract of sendMessage, one message written by hand sent through the
// send path sequences use (docs/architecture.md, "Manual messages"): its
// workflow id, input, outcomes and failure types. Inputs and outcomes carry
// ids, instants and counts only — never an address, subject or body.
import { type SlotDecision } from './enrollLead.contract';
import { messageWorkflowId } from './ids';

export { quotaReleasedSignal } from './enrollLead.contract';
export { messageWorkflowId };

export const SEND_MESSAGE = 'sendMessage';

/** Retried a few times, then the workflow ends: the request that records the message has not committed (or rolled back). */
export const MESSAGE_NOT_RECORDED = 'message_not_recorded';

/**
 * How long after its workflow started a message may still be unrecorded: the
 * request that records it starts the workflow inside its transaction, which
 * commits or rolls back well within this.
 */
export const RECORD_GRACE_MS = 2 * 60_000;

export interface SendMessageInput {
  tenantId: string;
  /** The message row (`msg_…`). */
  messageId: string;
  /** A reply inside its conversation: it carries In-Reply-To and References. */
  reply: boolean;
}

/** What the workflow asks reserveAndSendMessage for: the message's send, at `at`. */
export interface SendMessageAttempt extends SendMessageInput {
  at: number;
}

/** How a message's send ended. */
export type MessageSendOutcome =
  | { outcome: 'sent' }
  | { outcome: 'already_sent' }
  /** An earlier attempt died mid-send over SMTP: never sent again, not counted as sent. */
  | { outcome: 'uncertain' }
  /** The address was suppressed before the send: nothing was sent. */
  | { outcome: 'suppressed' }
  /** The message, its lead or its inbox is gone: nothing was sent. */
  | { outcome: 'gone' };

/** Not sent yet: the inbox's day is full (`retryAt`: the next day begins), or the tenant's sends are used up (`waitingFor`). */
export type MessageNotGranted = { outcome: 'not_granted' } & SlotDecision;

export type MessageAttemptOutcome = MessageSendOutcome | MessageNotGranted;

export function sendMessageStartOptions(input: SendMessageInput, taskQueue: string) {
  return { workflowId: messageWorkflowId(input), taskQueue, args: [input] as [SendMessageInput] };
}
