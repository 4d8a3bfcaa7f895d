// The contract of the campaign fan-out workflow: one per campaign,
// `tenant/{t}/campaign/{cmp}/fanout`. Starting, pausing, resuming or
// archiving a campaign — and adding leads to a running one — commits the
// campaign's status in the request and signals this workflow (signal-with-start);
// the workflow then walks the campaign's enrollments in batches, moving each
// batch's rows and starting or signalling their workflows, so the request
// returns at once whatever the campaign's size.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import { type FirstWait } from './enrollLead.contract';

export const CAMPAIGN_FANOUT = 'campaignFanout';

/** start: pending enrollments of an active campaign begin; resume also wakes paused ones. */
export type FanoutAction = 'start' | 'resume' | 'pause' | 'archive';
export const FANOUT_ACTIONS = ['start', 'resume', 'pause', 'archive'] as const satisfies readonly FanoutAction[];

export interface CampaignFanoutInput {
  tenantId: string;
  campaignId: string;
  /** Carried over continue-as-new: the action in progress and the last enrollment id done. */
  action?: FanoutAction;
  after?: string;
  processed?: number;
  /** Rows per batch (one transaction and its workflow calls); tests make it small. */
  batchSize?: number;
}

export interface FanoutBatchInput {
  tenantId: string;
  campaignId: string;
  action: FanoutAction;
  after: string;
  limit: number;
}

export interface FanoutBatchResult {
  /** False when the campaign's status no longer matches the action (a later action took over) or it is gone. */
  applies: boolean;
  /** Enrollments moved in this batch. */
  moved: number;
  /** The last enrollment id of the batch: the next batch starts after it. */
  last: string | null;
  /** Rows still to move after this batch. */
  remaining: number;
}

/** One enrollment workflow call of a moved batch: start the row's workflow, or signal the one it has. */
export interface FanoutCall {
  enrollmentId: string;
  leadId: string;
  call: 'start' | 'signal';
}

export interface FanoutMoveResult extends FanoutBatchResult {
  /** The workflow calls the moved rows need, in id order (a row that never had a workflow needs none to be paused or archived). */
  calls: FanoutCall[];
  /** Set when the moved rows start waiting for their first step: each start is delayed until it is due. */
  firstWait?: FirstWait;
}

/** A moved batch's workflow calls, as its move returned them. */
export interface FanoutCallsInput {
  tenantId: string;
  campaignId: string;
  action: FanoutAction;
  calls: FanoutCall[];
  firstWait?: FirstWait;
}

export interface FanoutProgress {
  state: 'running' | 'done';
  action: FanoutAction | null;
  processed: number;
  remaining: number;
  batches: number;
}

export const campaignActionSignal = defineSignal<[FanoutAction]>('campaignAction');
export const fanoutProgressQuery = defineQuery<FanoutProgress>('fanoutProgress');
