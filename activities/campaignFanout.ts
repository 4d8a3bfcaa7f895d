// The campaign fan-out's batch (workflows/campaignFanout.ts): in one tenant
// transaction, the next batch of the campaign's enrollments that the action
// moves is locked, moved, and their enrollment workflows started or signalled
// before the commit. A batch that dies before its commit rolls back and is
// done again: starting a running workflow and repeating a pause, resume or
// archive signal change nothing, so no enrollment is lost or doubled.
// Enrollment workflows that read their row wait for the commit (their load
// takes the row FOR SHARE), so none starts on a row that has not moved yet.
// When the campaign's first step waits, the batch records each started row's
// next send itself and starts the enrollment delayed until the wait ends: it
// has no workflow task before then, and reads its row when the delay ends
// (issue 11). Pause, resume and archive reach it by signal-with-start, which
// ends a delay at once.
import { Context } from '@temporalio/activity';
import { type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { type SignalDefinition } from '@temporalio/common';
import { type DataSource } from 'typeorm';
import { withTenant } from '../db/tenantContext';
import { eachLimited } from '../lib/eachLimited';
import { FANOUT_MOVES, type FanoutBatchInput, type FanoutBatchResult } from '../workflows/campaignFanout.shared';
import {
  archiveSignal,
  ENROLL_LEAD,
  enrollmentSignalOptions,
  enrollmentStartOptions,
  type FirstWait,
  firstWaitEnds,
  pauseSignal,
  resumeSignal,
} from '../workflows/enrollLead.shared';

/** Workflow calls in flight per batch. */
const CALLS_IN_FLIGHT = 32;

interface Moved {
  id: string;
  lead_id: string;
  sequence_version: number | null;
  was: string;
}

export function createCampaignFanoutActivities(deps: { dataSource: DataSource }) {
  return {
    fanOutCampaignBatch(input: FanoutBatchInput): Promise<FanoutBatchResult> {
      const ctx = Context.current();
      // The activity's client is the worker's own (its NativeConnection), and
      // the worker polls the enrollments' task queue: the starts can be eager.
      return fanOutBatch(deps.dataSource, { client: ctx.client, taskQueue: ctx.info.taskQueue, eagerStart: true, heartbeat: (d) => ctx.heartbeat(d) }, input);
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

/** One batch: lock, move, start or signal, then commit — or roll back all of it. */
export function fanOutBatch(dataSource: DataSource, calls: FanoutCalls, input: FanoutBatchInput): Promise<FanoutBatchResult> {
  const move = FANOUT_MOVES[input.action];
  return withTenant(dataSource, input.tenantId, async (m) => {
    // FOR SHARE: the request that changed the campaign commits first. With
    // it, the first step's delay in the version that rows starting now pin.
    const [campaign] = (await m.query(
      `SELECT c.status, c.sequence_version,
              (SELECT (st->>'delayHours')::int FROM jsonb_array_elements(s.steps) st ORDER BY (st->>'position')::int LIMIT 1) AS first_delay_hours
         FROM campaigns c LEFT JOIN campaign_sequences s ON s.campaign_id = c.id AND s.version = c.sequence_version
        WHERE c.id = $1 FOR SHARE OF c`,
      [input.campaignId],
    )) as { status: string; sequence_version: number | null; first_delay_hours: number | null }[];
    if (!campaign || campaign.status !== move.campaign) return { applies: false, moved: 0, last: null, remaining: 0 };
    // A row that starts now and waits for its first step: its next send is
    // recorded here, and its workflow is told to wait before loading its plan.
    const from = Date.now();
    const firstWait = move.to === 'active' && campaign.first_delay_hours ? { from, delayHours: campaign.first_delay_hours } : undefined;
    const [moved] = (await m.query(
      `WITH picked AS (
         SELECT id, status AS was FROM enrollments
          WHERE campaign_id = $1 AND status = ANY($2::text[]) AND id > $3
          ORDER BY id LIMIT $4 FOR UPDATE)
       UPDATE enrollments e
          SET status = $5,
              sequence_version = CASE WHEN picked.was = 'pending' AND $5 = 'active' THEN $6::int ELSE e.sequence_version END,
              current_step = CASE WHEN picked.was = 'pending' AND $7::timestamptz IS NOT NULL THEN greatest(e.current_step, 1) ELSE e.current_step END,
              next_send_at = CASE WHEN picked.was = 'pending' AND $7::timestamptz IS NOT NULL THEN $7::timestamptz ELSE e.next_send_at END,
              updated_at = now()
         FROM picked WHERE e.id = picked.id
       RETURNING e.id, e.lead_id, e.sequence_version, picked.was`,
      [input.campaignId, move.from, input.after, input.limit, move.to, campaign.sequence_version, firstWait ? new Date(firstWaitEnds(firstWait)) : null],
    )) as [Moved[], number];
    moved.sort((a, b) => (a.id < b.id ? -1 : 1));
    let done = 0;
    await eachLimited(moved, CALLS_IN_FLIGHT, async (e) => {
      await workflowCall(calls, input, e, firstWait);
      if (++done % 50 === 0) calls.heartbeat?.({ done, of: moved.length });
    });
    const last = moved.at(-1)?.id ?? null;
    const [{ remaining }] = (await m.query(
      'SELECT count(*)::int AS remaining FROM enrollments WHERE campaign_id = $1 AND status = ANY($2::text[]) AND id > $3',
      [input.campaignId, move.from, last ?? input.after],
    )) as [{ remaining: number }];
    return { applies: true, moved: moved.length, last, remaining };
  });
}

/** The enrollment workflow call for one moved row: start a pending one, signal a running one. */
async function workflowCall(
  { client, taskQueue, eagerStart }: FanoutCalls,
  input: FanoutBatchInput,
  e: Moved,
  firstWait: FirstWait | undefined,
): Promise<void> {
  const key = { tenantId: input.tenantId, enrollmentId: e.id, campaignId: input.campaignId, leadId: e.lead_id };
  if (input.action === 'start' || (input.action === 'resume' && e.was === 'pending')) {
    try {
      await client.workflow.start(ENROLL_LEAD, { ...enrollmentStartOptions(key, taskQueue, firstWait), requestEagerStart: eagerStart && !firstWait });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    return;
  }
  // A pending row never had a workflow (its sequence version is still unset).
  if (e.sequence_version === null) return;
  const signal: SignalDefinition = input.action === 'pause' ? pauseSignal : input.action === 'archive' ? archiveSignal : resumeSignal;
  try {
    await client.workflow.signalWithStart(ENROLL_LEAD, { ...enrollmentSignalOptions(key, taskQueue), signal });
  } catch (err) {
    // An enrollment that has already ended refuses the start: nothing to signal.
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}
