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
import { hasEnrollmentsIn } from '../../db/enrollments';
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

/** The enrollment's send counts as a join (its home is db/messages.ts, with the messages it counts). */

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
  if (!(await hasEnrollmentsIn(a.manager, campaignId, FANOUT_MOVES[action].from))) return;
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
