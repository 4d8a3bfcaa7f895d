// readMailbox: reads an inbox's own mailbox over IMAP for as long as the inbox
// carries IMAP settings (docs/providers.md, "IMAP"). Each round is one
// activity call that reads a bounded number of batches above the checkpoint
// and commits each batch with its checkpoint; then the enrollments the mail
// ended are told, exactly as a provider's webhook tells them, and the
// workflow waits for new settings or the polling interval. A mailbox the
// server refuses is recorded on the inbox and waits for new settings (or a
// long retry) rather than failing the workflow. Long runs continue as new.
import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { bounceSignal, replySignal } from './enrollLead.contract';
import { enrollmentWorkflowId } from './ids';
import { MAILBOX_REJECTED, type MailboxStop, type ReadMailboxInput, settingsChangedSignal } from './readMailbox.contract';

export * from './readMailbox.contract';

const { syncMailbox } = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  // Every batch heartbeats: a worker that dies mid-sync is noticed within this,
  // and the retry resumes from the committed checkpoint.
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '5 seconds', maximumInterval: '5 minutes', nonRetryableErrorTypes: [MAILBOX_REJECTED] },
});

const DEFAULT_POLL_SECONDS = 60;
const DEFAULT_REJECTED_RETRY_SECONDS = 3600;
const DEFAULT_ROUNDS_PER_RUN = 500;

export async function readMailbox(input: ReadMailboxInput): Promise<{ rounds: number; stored: number }> {
  const { tenantId, inboxId } = input;
  let changed = false;
  setHandler(settingsChangedSignal, () => void (changed = true));
  let rounds = input.rounds ?? 0;
  let stored = input.stored ?? 0;
  const roundsPerRun = Math.max(1, input.roundsPerRun ?? DEFAULT_ROUNDS_PER_RUN);

  for (let round = 0; ; round++) {
    if (round >= roundsPerRun || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof readMailbox>({ ...input, rounds, stored });
    }
    changed = false;
    rounds += 1;
    let result;
    try {
      result = await syncMailbox({ tenantId, inboxId, ...(input.limits ? { limits: input.limits } : {}) });
    } catch (err) {
      // The activity records a refusal on the inbox and answers `rejected`;
      // one that escapes it still must not end the reader.
      if (!(err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === MAILBOX_REJECTED)) throw err;
      result = { status: 'rejected' as const };
    }
    if (result.status === 'gone') return { rounds, stored };
    if (result.status === 'rejected') {
      await condition(() => changed, `${input.rejectedRetrySeconds ?? DEFAULT_REJECTED_RETRY_SECONDS} seconds`);
      continue;
    }
    stored += result.stored;
    await Promise.all(result.stops.map(tellEnrollment(tenantId)));
    if (result.more) continue;
    await condition(() => changed, `${input.pollSeconds ?? DEFAULT_POLL_SECONDS} seconds`);
  }
}

/**
 * Signals the enrollment as the webhook does: its row already holds the stop,
 * so the workflow need not write it again. One that has finished, or never
 * started, has nothing to stop: not an error.
 */
function tellEnrollment(tenantId: string) {
  return async (stop: MailboxStop) => {
    const handle = getExternalWorkflowHandle(enrollmentWorkflowId({ tenantId, campaignId: stop.campaignId, leadId: stop.leadId }));
    try {
      await handle.signal(stop.outcome === 'replied' ? replySignal : bounceSignal, { recorded: true });
    } catch (err) {
      log.info('the enrollment workflow was not running', { enrollmentId: stop.enrollmentId, error: (err as Error).message });
    }
  };
}
