// Enrollment workflows from the services: one workflow per (campaign, lead),
// `tenant/{t}/campaign/{cmp}/lead/{lead}`, started with the TenantId search
// attribute once the request's transaction has committed. Fan-out runs a few
// at a time, and a workflow that has already finished is not an error to
// signal.
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { type SignalDefinition } from '@temporalio/workflow';
import { type TenantAccess } from '../context';
import { startTenantWorkflow } from '../tenantWorkflows';
import { ENROLL_LEAD, type EnrollLeadInput } from '../../workflows/enrollLead.shared';
import { enrollmentWorkflowId } from '../../workflows/ids';

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

async function eachLimited<T>(items: T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const run = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, run));
}

export async function startEnrollments(client: Client, taskQueue: string, tenantId: string, rows: EnrollmentKey[]): Promise<void> {
  await eachLimited(rows, async (e) => {
    await startTenantWorkflow<(input: EnrollLeadInput) => Promise<unknown>>(client, ENROLL_LEAD, {
      tenantId,
      taskQueue,
      workflowId: enrollmentWorkflowId({ tenantId, campaignId: e.campaign_id, leadId: e.lead_id }),
      args: [{ tenantId, enrollmentId: e.id }],
    });
  });
}

export async function signalEnrollments(client: Client, tenantId: string, rows: EnrollmentKey[], signal: SignalDefinition): Promise<void> {
  await eachLimited(rows, async (e) => {
    try {
      await client.workflow.getHandle(enrollmentWorkflowId({ tenantId, campaignId: e.campaign_id, leadId: e.lead_id })).signal(signal);
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
  });
}

/** Signals the enrollments once the caller's transaction has committed. */
export function signalAfterCommit(a: TenantAccess, deps: WorkflowClientDeps, rows: EnrollmentKey[], signal: SignalDefinition): void {
  if (rows.length > 0) a.afterCommit(() => signalEnrollments(deps.client, a.tenantId, rows, signal));
}

/**
 * Pins every pending enrollment of an active campaign to the current
 * sequence version and starts its workflow once the request has committed.
 */
export async function startPendingEnrollments(
  a: TenantAccess,
  deps: WorkflowClientDeps,
  campaign: { id: string; sequence_version: number | null },
  leadIds?: string[],
): Promise<number> {
  const [started] = (await a.manager.query(
    `UPDATE enrollments SET status = 'active', sequence_version = $2, updated_at = now()
      WHERE campaign_id = $1 AND status = 'pending' ${leadIds ? 'AND lead_id = ANY($3)' : ''}
      RETURNING id, campaign_id, lead_id`,
    leadIds ? [campaign.id, campaign.sequence_version, leadIds] : [campaign.id, campaign.sequence_version],
  )) as [EnrollmentKey[], number];
  if (started.length > 0) a.afterCommit(() => startEnrollments(deps.client, deps.taskQueue, a.tenantId, started));
  return started.length;
}
