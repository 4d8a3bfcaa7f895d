// campaignFanout: brings a campaign's enrollments to the campaign's status in
// batches. A batch is two activities: the move commits its rows in one
// transaction and returns the workflow calls they need, then the calls are
// made from that list, which this history holds — so a batch retried after a
// crash repeats only idempotent calls (a retry makes them again), and no
// enrollment waits for its batch's rows. A newer action (the campaign changed
// again) restarts the walk from the first enrollment; progress is a query,
// and long walks continue as new.
import { condition, continueAsNew, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  type CampaignFanoutInput,
  campaignActionSignal,
  type FanoutBatchInput,
  type FanoutBatchResult,
  type FanoutAction,
  type FanoutProgress,
  fanoutProgressQuery,
} from './campaignFanout.contract';
import { callsOfMove, mergeActions } from './campaignFanout.rules';

export * from './campaignFanout.contract';

const { moveCampaignBatch, callCampaignBatch } = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '1 minute',
  retry: { maximumInterval: '1 minute' },
});

const DEFAULT_BATCH = 250;

/** One batch: the move, then its calls. */
async function moveThenCall(batch: FanoutBatchInput): Promise<FanoutBatchResult> {
  const { calls, firstWait, ...result } = await moveCampaignBatch(batch);
  if (calls.length > 0) await callCampaignBatch(callsOfMove(batch, { calls, firstWait }));
  return result;
}
const HISTORY_LIMIT = 4_000;

export async function campaignFanout(input: CampaignFanoutInput): Promise<FanoutProgress> {
  let action: FanoutAction | null = input.action ?? null;
  let after = input.after ?? '';
  const progress: FanoutProgress = { state: 'running', action, processed: input.processed ?? 0, remaining: 0, batches: 0 };
  let pending: FanoutAction | null = null;
  setHandler(campaignActionSignal, (incoming) => void (pending = mergeActions(pending ?? progress.action, incoming)));
  setHandler(fanoutProgressQuery, () => ({ ...progress }));

  if (action === null) await condition(() => pending !== null);
  for (;;) {
    if (pending !== null) {
      // A newer action: walk the campaign again from its first enrollment.
      action = pending;
      pending = null;
      after = '';
      progress.action = action;
      progress.processed = 0;
    }
    const r = await moveThenCall({
      tenantId: input.tenantId,
      campaignId: input.campaignId,
      action: action!,
      after,
      limit: input.batchSize ?? DEFAULT_BATCH,
    });
    progress.batches += 1;
    progress.processed += r.moved;
    progress.remaining = r.remaining;
    if (r.last) after = r.last;
    if (!r.applies || r.last === null || r.remaining === 0) {
      if (pending === null) break;
      continue;
    }
    // Each batch's calls are in the history: the server suggests a new run before it grows too large.
    if (pending === null && (workflowInfo().historyLength > HISTORY_LIMIT || workflowInfo().continueAsNewSuggested)) {
      await continueAsNew<typeof campaignFanout>({ ...input, action: action!, after, processed: progress.processed });
    }
  }
  progress.state = 'done';
  return { ...progress };
}
