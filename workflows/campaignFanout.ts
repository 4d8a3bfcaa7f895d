// campaignFanout (spec §5.3, issue 11): brings a campaign's enrollments to the
// campaign's status in batches — each batch one transaction that moves its
// rows and starts or signals their enrollment workflows before it commits, so
// a batch retried after a crash repeats only idempotent calls. A newer action
// (the campaign changed again) restarts the walk from the first enrollment;
// progress is a query, and long walks continue as new.
import { condition, continueAsNew, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  type CampaignFanoutInput,
  campaignActionSignal,
  type FanoutAction,
  type FanoutProgress,
  fanoutProgressQuery,
  mergeActions,
} from './campaignFanout.shared';

export * from './campaignFanout.shared';

const { fanOutCampaignBatch } = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '1 minute',
  retry: { maximumInterval: '1 minute' },
});

const DEFAULT_BATCH = 250;
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
    const r = await fanOutCampaignBatch({
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
    if (pending === null && workflowInfo().historyLength > HISTORY_LIMIT) {
      await continueAsNew<typeof campaignFanout>({ ...input, action: action!, after, processed: progress.processed });
    }
  }
  progress.state = 'done';
  return { ...progress };
}
