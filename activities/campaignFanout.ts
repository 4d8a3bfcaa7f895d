// The campaign fan-out's batch (workflows/campaignFanout.ts), in two steps.
// The move: in one tenant transaction, the next batch of the campaign's
// enrollments that the action moves is locked, moved and committed, and the
// workflow calls it needs (start or signal, per row) are returned. The calls:
// the enrollment workflows are started or signalled from that list, which the
// fan-out's history holds, so calls that die midway are made again from the
// same list — starting a running workflow and repeating a pause, resume or
// archive signal change nothing, so no enrollment is lost or doubled. The
// rows are committed before their workflows start, so an enrollment never
// waits for its batch: a batch that held its rows through its starts would
// hold up the very enrollments it started.
// When the campaign's first step waits, the move records each started row's
// next send itself and the call starts the enrollment delayed until the wait
// ends: it has no workflow task before then, and reads its row when the delay
// ends. Pause, resume and archive reach it by signal-with-start, which ends a
// delay at once.
import { Context } from '@temporalio/activity';
import { type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { type SignalDefinition } from '@temporalio/common';
import { type DataSource, type EntityManager } from 'typeorm';
import { readCampaignForFanout } from '../db/campaigns';
import { countEnrollmentsAfter, moveFanoutBatch } from '../db/enrollments';
import { withTenant } from '../db/tenantContext';
import { eachLimited } from '../lib/eachLimited';
import { type FanoutBatchInput, type FanoutCall, type FanoutCallsInput, type FanoutMoveResult } from '../workflows/campaignFanout.contract';
import { FANOUT_MOVES } from '../workflows/campaignFanout.rules';
import {
  archiveSignal,
  ENROLL_LEAD,
  enrollmentSignalOptions,
  enrollmentStartOptions,
  firstWaitEnds,
  pauseSignal,
  resumeSignal,
} from '../workflows/enrollLead.contract';

/** Workflow calls in flight per batch. */
const CALLS_IN_FLIGHT = 32;

export function createCampaignFanoutActivities(deps: { dataSource: DataSource }) {
  // The activity's client is the worker's own (its NativeConnection), and
  // the worker polls the enrollments' task queue: the starts can be eager.
  const callsOfActivity = (): FanoutCalls => {
    const ctx = Context.current();
    return { client: ctx.client, taskQueue: ctx.info.taskQueue, eagerStart: true, heartbeat: (d) => ctx.heartbeat(d) };
  };
  return {
    moveCampaignBatch(input: FanoutBatchInput): Promise<FanoutMoveResult> {
      return moveBatch(deps.dataSource, input);
    },
    callCampaignBatch(input: FanoutCallsInput): Promise<void> {
      return callBatch(callsOfActivity(), input);
    },
  };
}

export interface FanoutCalls {
  client: Client;
  /** The enrollment workflows' task queue (the worker's own). */
  taskQueue: string;
  /**
   * Ask for eager workflow start: the server records each enrollment's first
   * workflow task as started with the start itself and hands it back to this
   * worker, instead of queueing it and recording its start when a poller
   * takes it (less work for the server per start). Only for the worker's own
   * client, whose worker polls `taskQueue`. The SDK asks only when the worker
   * has a free workflow task slot, and the server ignores the request when
   * eager start is turned off: either way the task goes through the queue.
   * A start delayed by a first wait has no task to hand back and never asks.
   */
  eagerStart?: boolean;
  heartbeat?: (details: { done: number; of: number }) => void;
}

/** The move: lock the batch's rows, move them and commit; returns the workflow calls they need. */
export function moveBatch(dataSource: DataSource, input: FanoutBatchInput): Promise<FanoutMoveResult> {
  return withTenant(dataSource, input.tenantId, (m) => moveRows(m, input));
}

/**
 * The calls of a moved batch, `CALLS_IN_FLIGHT` at a time. Each is
 * idempotent, so a retry after a failure (or a dead worker) makes them all
 * again; it stops calling at its first failure and waits for the calls in flight.
 */
export async function callBatch(calls: FanoutCalls, input: FanoutCallsInput): Promise<void> {
  let done = 0;
  await eachLimited(input.calls, CALLS_IN_FLIGHT, async (c) => {
    await workflowCall(calls, input, c);
    if (++done % 50 === 0) calls.heartbeat?.({ done, of: input.calls.length });
  });
}

async function moveRows(m: EntityManager, input: FanoutBatchInput): Promise<FanoutMoveResult> {
  const move = FANOUT_MOVES[input.action];
  // FOR SHARE: the request that changed the campaign commits first. With
  // it, the first step's delay in the version that rows starting now pin.
  const campaign = await readCampaignForFanout(m, input.campaignId);
  if (!campaign || campaign.status !== move.campaign) return { applies: false, moved: 0, last: null, remaining: 0, calls: [] };
  // A row that starts now and waits for its first step: its next send is
  // recorded here, and its workflow is told to wait before loading its plan.
  const from = Date.now();
  const firstWait = move.to === 'active' && campaign.first_delay_hours ? { from, delayHours: campaign.first_delay_hours } : undefined;
  const moved = await moveFanoutBatch(m, {
    campaignId: input.campaignId,
    from: move.from,
    after: input.after,
    limit: input.limit,
    to: move.to,
    sequenceVersion: campaign.sequence_version,
    firstSendAt: firstWait ? new Date(firstWaitEnds(firstWait)) : null,
  });
  moved.sort((a, b) => (a.id < b.id ? -1 : 1));
  const last = moved.at(-1)?.id ?? null;
  const remaining = await countEnrollmentsAfter(m, input.campaignId, move.from, last ?? input.after);
  const calls = moved.flatMap((e): FanoutCall[] => {
    // A pending row starts; one that has a workflow is signalled; a pending
    // row that is paused or archived never had one (its sequence version is unset).
    const call = input.action === 'start' || (input.action === 'resume' && e.was === 'pending') ? 'start' : e.sequence_version === null ? null : 'signal';
    return call ? [{ enrollmentId: e.id, leadId: e.lead_id, call }] : [];
  });
  return { applies: true, moved: moved.length, last, remaining, calls, ...(firstWait ? { firstWait } : {}) };
}

/** One enrollment workflow call: start a pending row's workflow, or signal a running one. */
async function workflowCall({ client, taskQueue, eagerStart }: FanoutCalls, input: FanoutCallsInput, c: FanoutCall): Promise<void> {
  const key = { tenantId: input.tenantId, enrollmentId: c.enrollmentId, campaignId: input.campaignId, leadId: c.leadId };
  if (c.call === 'start') {
    try {
      await client.workflow.start(ENROLL_LEAD, {
        ...enrollmentStartOptions(key, taskQueue, input.firstWait),
        requestEagerStart: eagerStart && !input.firstWait,
      });
    } catch (err) {
      // Running already (an earlier attempt started it, or a signal-with-start
      // of the lead's own came first), or ended since: nothing to start.
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    return;
  }
  const signal: SignalDefinition = input.action === 'pause' ? pauseSignal : input.action === 'archive' ? archiveSignal : resumeSignal;
  try {
    await client.workflow.signalWithStart(ENROLL_LEAD, { ...enrollmentSignalOptions(key, taskQueue), signal });
  } catch (err) {
    // An enrollment that has already ended refuses the start: nothing to signal.
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}
