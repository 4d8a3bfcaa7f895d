// Starting and signalling enrollment workflows from the API: one workflow per
// (campaign, lead), `tenant/{t}/campaign/{cmp}/lead/{lead}`, started with the
// TenantId search attribute. Fan-out runs a few at a time, and a workflow that
// has already finished is not an error to signal.
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { type SignalDefinition } from '@temporalio/workflow';
import { startTenantWorkflow } from '../lib/tenantWorkflows';
import { enrollLead } from '../workflows/enrollLead';
import { enrollmentWorkflowId } from '../workflows/ids';

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
    await startTenantWorkflow(client, enrollLead, {
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
