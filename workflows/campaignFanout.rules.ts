// The campaign fan-out's pure rules: what each action moves, how two actions
// merge, and a moved batch's workflow calls (workflows/campaignFanout.ts).
import { type FanoutAction, type FanoutBatchInput, type FanoutCallsInput, type FanoutMoveResult } from './campaignFanout.contract';

/** For each action: the campaign status it belongs to, the enrollment statuses it moves, and where to. */
export const FANOUT_MOVES: Record<FanoutAction, { campaign: string; from: string[]; to: string }> = {
  start: { campaign: 'active', from: ['pending'], to: 'active' },
  resume: { campaign: 'active', from: ['pending', 'paused'], to: 'active' },
  pause: { campaign: 'paused', from: ['active'], to: 'paused' },
  archive: { campaign: 'archived', from: ['active', 'paused', 'pending'], to: 'archived' },
};

/** The calls of a batch, from its input and what its move returned. */
export function callsOfMove(batch: FanoutBatchInput, moved: Pick<FanoutMoveResult, 'calls' | 'firstWait'>): FanoutCallsInput {
  return {
    tenantId: batch.tenantId,
    campaignId: batch.campaignId,
    action: batch.action,
    calls: moved.calls,
    ...(moved.firstWait ? { firstWait: moved.firstWait } : {}),
  };
}

/** The action that covers both: a resume already starts pending enrollments. */
export function mergeActions(current: FanoutAction | null, incoming: FanoutAction): FanoutAction {
  return current === 'resume' && incoming === 'start' ? 'resume' : incoming;
}
