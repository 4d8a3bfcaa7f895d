// The contract of the mailbox reader: one long-running workflow per inbox
// that carries IMAP settings, `tenant/{t}/inbox/{inb}/mailbox`
// (docs/providers.md, "IMAP"). Setting the inbox's IMAP settings starts it or
// signals `settingsChanged`; clearing them or removing the inbox ends it at
// its next read. Its activity's input and result carry ids and counts only —
// never a message's content or addresses, which stay out of the history.
import { defineSignal } from '@temporalio/workflow';
import { readMailboxWorkflowId } from './ids';
import { TenantIdSearchAttribute } from './searchAttributes';

export const READ_MAILBOX = 'readMailbox';

/** Failure type of a mailbox that retrying will not fix: host not allowed, login or TLS refused, no such mailbox. */
export const MAILBOX_REJECTED = 'mailbox_rejected';

/** The inbox's IMAP settings changed (or were cleared): read again now, with the new ones. */
export const settingsChangedSignal = defineSignal('settingsChanged');

/** How much one activity call reads; tests make the batches small. */
export interface MailboxLimits {
  /** Messages per batch (one transaction). */
  batchMessages?: number;
  /** Bytes per batch, by the sizes the server reports; a batch holds at least one message. */
  batchBytes?: number;
  /** Batches per activity call; the workflow calls again at once when more remain. */
  batchesPerCall?: number;
}

export interface ReadMailboxInput {
  tenantId: string;
  inboxId: string;
  /** Seconds between reads when the mailbox has nothing new (default 60). */
  pollSeconds?: number;
  /** Seconds before a mailbox the server refused is tried again without a settings change (default 3600). */
  rejectedRetrySeconds?: number;
  /** Reads before the workflow continues as new (default 500). */
  roundsPerRun?: number;
  limits?: MailboxLimits;
  /** Carried over continue-as-new: reads done and messages stored by earlier runs. */
  rounds?: number;
  stored?: number;
}

export interface SyncMailboxInput {
  tenantId: string;
  inboxId: string;
  limits?: MailboxLimits;
}

/** An enrollment that mail read from the mailbox ended (its row is written): the workflow tells the enrollment. */
export interface MailboxStop {
  enrollmentId: string;
  campaignId: string;
  leadId: string;
  outcome: 'replied' | 'bounced';
}

export type SyncMailboxResult =
  /** The inbox is gone or has no IMAP settings: the workflow ends. */
  | { status: 'gone' }
  /** The server refused the mailbox (login, TLS, no such mailbox, host not allowed): recorded on the inbox; retrying will not help. */
  | { status: 'rejected' }
  | {
      status: 'read';
      uidValidity: string;
      lastUid: number;
      /** Messages stored now (a message stored before is not counted). */
      stored: number;
      /** Messages read and not stored (stored before, or from nobody the customer knows). */
      ignored: number;
      /** True when the mailbox has more above the checkpoint than this call read. */
      more: boolean;
      /** True when the mailbox's UIDVALIDITY differed from the checkpoint's: it was read again from the start. */
      resynced: boolean;
      stops: MailboxStop[];
    };

/** The heartbeat of a sync: how far it got (ids and counts only). */
export interface SyncProgress {
  uidValidity: string;
  lastUid: number;
  batches: number;
  stored: number;
}

/** How the API starts the reader: signal-with-start, so a running one reads again and a stopped one starts. */
export function readMailboxStartOptions(input: { tenantId: string; inboxId: string; pollSeconds?: number }, taskQueue: string) {
  return {
    workflowId: readMailboxWorkflowId(input),
    taskQueue,
    args: [{ tenantId: input.tenantId, inboxId: input.inboxId, ...(input.pollSeconds ? { pollSeconds: input.pollSeconds } : {}) }] as [ReadMailboxInput],
    typedSearchAttributes: [{ key: TenantIdSearchAttribute, value: input.tenantId }],
    workflowIdReusePolicy: 'ALLOW_DUPLICATE' as const,
    signal: settingsChangedSignal,
    signalArgs: [] as [],
  };
}
