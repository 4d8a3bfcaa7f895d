// Workflow IDs, one function per workflow. Every ID begins with the tenant
// (`tenant/{tenantId}/…`, docs/operations.md) so the API can refuse to touch a
// workflow of another tenant by reading the ID alone.

const TENANT_WORKFLOW_ID = /^tenant\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\//;

export function diagnoseTenantWorkflowId(input: { tenantId: string; requestId: string }): string {
  return `tenant/${input.tenantId}/diagnose/${input.requestId}`;
}

export function provisionTenantWorkflowId(input: { tenantId: string }): string {
  return `tenant/${input.tenantId}/provision`;
}

export function provisionEmailWorkflowId(input: { tenantId: string; customerId: string }): string {
  return `tenant/${input.tenantId}/customer/${input.customerId}/provision-email`;
}

export function syncInboxesWorkflowId(input: { tenantId: string; customerId: string }): string {
  return `tenant/${input.tenantId}/customer/${input.customerId}/sync-inboxes`;
}

/** The tenant a workflow ID belongs to, or undefined for platform workflows and malformed IDs. */
export function tenantIdOfWorkflowId(workflowId: string): string | undefined {
  return TENANT_WORKFLOW_ID.exec(workflowId)?.[1];
}

export function enrollmentWorkflowId(input: { tenantId: string; campaignId: string; leadId: string }): string {
  return `tenant/${input.tenantId}/campaign/${input.campaignId}/lead/${input.leadId}`;
}

export function campaignFanoutWorkflowId(input: { tenantId: string; campaignId: string }): string {
  return `tenant/${input.tenantId}/campaign/${input.campaignId}/fanout`;
}

export function readMailboxWorkflowId(input: { tenantId: string; inboxId: string }): string {
  return `tenant/${input.tenantId}/inbox/${input.inboxId}/mailbox`;
}

export function messageWorkflowId(input: { tenantId: string; messageId: string }): string {
  return `tenant/${input.tenantId}/message/${input.messageId}`;
}

/** One run of an automation (docs/automations.md, "Runs"). */
export function automationRunWorkflowId(input: { tenantId: string; automationId: string; runId: string }): string {
  return `tenant/${input.tenantId}/automation/${input.automationId}/run/${input.runId}`;
}

/** The Temporal Schedule of an automation triggered by `schedule`. */
export function automationScheduleId(input: { tenantId: string; automationId: string }): string {
  return `tenant/${input.tenantId}/automation/${input.automationId}/schedule`;
}

export function exportWorkflowId(input: { tenantId: string; exportId: string }): string {
  return `tenant/${input.tenantId}/export/${input.exportId}`;
}
