// Enrollment workflows from the services: one workflow per (campaign, lead),
// `tenant/{t}/campaign/{cmp}/lead/{lead}`. A whole campaign's enrollments are
// moved, started and signalled by its fan-out workflow (workflows/
// campaignFanout.ts), never inside a request; a few named enrollments are
// signalled once the request has committed, by signal-with-start (a
// campaign's first wait delays an enrollment's start, and only a
// signal-with-start wakes it before then). A workflow that has already
// finished is not an error to signal.
import { type Client, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import { type SignalDefinition } from '@temporalio/workflow';
import { eachLimited } from '../../lib/eachLimited';
import { type TenantAccess } from '../context';
import { tenantSearchAttributes } from '../tenantWorkflows';
import {
  CAMPAIGN_FANOUT,
  type CampaignFanoutInput,
  campaignActionSignal,
  type FanoutAction,
  type FanoutProgress,
  fanoutProgressQuery,
} from '../../workflows/campaignFanout.contract';
import { FANOUT_MOVES } from '../../workflows/campaignFanout.rules';
import { ENROLL_LEAD, enrollmentSignalOptions, type StopNotice } from '../../workflows/enrollLead.contract';
import { campaignFanoutWorkflowId } from '../../workflows/ids';

/**
 * An enrollment's outbound messages counted by outcome, for a query over
 * `enrollments e`: `sent` is accepted ones only; a send whose outcome is
 * unknown counts apart (`uncertain`) until it is resolved. One scan of the
 * enrollment's messages for both.
 */
export const SEND_COUNTS_JOIN = `CROSS JOIN LATERAL (
  SELECT count(*) FILTER (WHERE m.status = 'accepted')::int AS sent_accepted, count(*) FILTER (WHERE m.status = 'uncertain')::int AS sent_uncertain
    FROM messages m WHERE m.enrollment_id = e.id AND m.direction = 'outbound') sc`;

/** What services need of Temporal: the client and the task queue workflows run on. */
export interface WorkflowClientDeps {
  client: Client;
  taskQueue: string;
}

export interface EnrollmentKey {
  id: string;
  campaign_id: string;
  lead_id: string;
}

const CONCURRENCY = 8;

/**
 * Signals each enrollment's workflow by signal-with-start, which also wakes
 * one whose start is still delayed (a campaign's first wait). An enrollment
 * that has already ended refuses the start: not an error. A reply's or a
 * bounce's `notice` says its sender already wrote the stop on the row.
 */
export async function signalEnrollments(
  deps: WorkflowClientDeps,
  tenantId: string,
  rows: EnrollmentKey[],
  signal: SignalDefinition | SignalDefinition<[StopNotice?]>,
  notice?: StopNotice,
): Promise<void> {
  await eachLimited(rows, CONCURRENCY, async (e) => {
    const key = { tenantId, enrollmentId: e.id, campaignId: e.campaign_id, leadId: e.lead_id };
    try {
      await deps.client.workflow.signalWithStart(ENROLL_LEAD, {
        ...enrollmentSignalOptions(key, deps.taskQueue),
        signal: signal.name,
        signalArgs: (notice ? [notice] : []) as unknown[],
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  });
}

/** Signals the enrollments once the caller's transaction has committed. */
export function signalAfterCommit(a: TenantAccess, deps: WorkflowClientDeps, rows: EnrollmentKey[], signal: SignalDefinition): void {
  if (rows.length > 0) a.afterCommit(() => signalEnrollments(deps, a.tenantId, rows, signal));
}

/**
 * Hands a campaign's enrollments to its fan-out workflow: signal-with-start,
 * inside the request's transaction, so a failed call fails the request. The
 * workflow's batches read the campaign FOR SHARE, so they see this request's
 * change only once it has committed (and nothing if it rolls back).
 */
export async function fanOutCampaign(a: TenantAccess, deps: WorkflowClientDeps, campaignId: string, action: FanoutAction): Promise<void> {
  // Nothing to move, nothing to start: a fan-out still running an older action
  // stops by itself, since its batches check the campaign's status.
  const [any] = (await a.manager.query('SELECT 1 FROM enrollments WHERE campaign_id = $1 AND status = ANY($2::text[]) LIMIT 1', [
    campaignId,
    FANOUT_MOVES[action].from,
  ])) as unknown[];
  if (!any) return;
  await deps.client.workflow.signalWithStart(CAMPAIGN_FANOUT, {
    workflowId: campaignFanoutWorkflowId({ tenantId: a.tenantId, campaignId }),
    taskQueue: deps.taskQueue,
    args: [{ tenantId: a.tenantId, campaignId } satisfies CampaignFanoutInput],
    signal: campaignActionSignal,
    signalArgs: [action],
    typedSearchAttributes: tenantSearchAttributes(a.tenantId),
  });
}

/** The campaign's fan-out while it runs (the console's progress bar); null when none runs. */
export async function runningFanout(deps: WorkflowClientDeps, tenantId: string, campaignId: string): Promise<FanoutProgress | null> {
  const handle = deps.client.workflow.getHandle(campaignFanoutWorkflowId({ tenantId, campaignId }));
  try {
    const d = await handle.describe();
    if (d.status.name !== 'RUNNING') return null;
    return await handle.query(fanoutProgressQuery);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}
