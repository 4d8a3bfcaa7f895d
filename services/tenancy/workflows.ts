// Describing a workflow: a platform admin describes any workflow;
// a tenant caller only its own tenant's, with the permission the workflow's
// kind needs. Another tenant's id is audited and answers 404.
import { WorkflowNotFoundError } from '@temporalio/common';
import { type DataSource } from 'typeorm';
import { customerOfCampaign } from '../../db/campaigns';
import { isId } from '../../db/ids';
import { forbidden, notFound } from '../../lib/errors';
import { type Permission } from '../../lib/permissions';
import { tenantIdOfWorkflowId } from '../../workflows/ids';
import { progressQuery } from '../../workflows/provisionTenant.contract';
import { auditInOwnTransaction } from '../audit';
import { type Caller, type TenantAccess } from '../context';
import { type WorkflowClientDeps } from '../outreach/enrollments';

/**
 * What a workflow ID names decides who may describe it: tenant workflows need
 * settings.manage and an unrestricted caller; a customer's need
 * customers.read within the caller's customer; an enrollment's need
 * campaigns.read within the campaign's customer.
 */
async function assertMayDescribe(a: TenantAccess, workflowId: string): Promise<void> {
  const need = (permission: Permission) => {
    if (!a.permissions.has(permission)) throw forbidden(permission);
  };
  const rest = workflowId.split('/').slice(2);
  if (rest[0] === 'customer' && rest[1]) {
    need('customers.read');
    if (a.restrictedCustomerId && a.restrictedCustomerId !== rest[1]) throw notFound('workflow');
    return;
  }
  if (rest[0] === 'campaign' && rest[1] && isId('cmp', rest[1])) {
    need('campaigns.read');
    const customerId = await customerOfCampaign(a.manager, rest[1]);
    if (!customerId || (a.restrictedCustomerId && a.restrictedCustomerId !== customerId)) throw notFound('workflow');
    return;
  }
  if (rest[0] === 'provision' || rest[0] === 'diagnose') {
    need('settings.manage');
    if (a.restrictedCustomerId) throw notFound('workflow');
    return;
  }
  throw notFound('workflow');
}

export async function describeWorkflow(ds: DataSource, deps: Pick<WorkflowClientDeps, 'client'>, caller: Caller, workflowId: string) {
  const owner = tenantIdOfWorkflowId(workflowId);
  if (caller.kind === 'tenant') {
    const a = caller.access;
    if (!owner || owner !== a.tenantId) {
      if (owner) {
        // Audited apart from the request's transaction, which the 404 rolls back.
        await auditInOwnTransaction(ds, a.tenantId, {
          action: 'cross_tenant_attempt',
          outcome: 'denied',
          actorUserId: a.userId,
          actorTokenId: a.tokenId,
          requestId: a.requestId,
          details: { via: 'workflow_id' },
        });
      }
      throw notFound('workflow');
    }
    await assertMayDescribe(a, workflowId);
  }
  try {
    const handle = deps.client.workflow.getHandle(workflowId);
    const d = await handle.describe();
    const summary: Record<string, unknown> = {};
    if (d.type === 'provisionTenant' && d.status.name === 'RUNNING') summary.progress = await handle.query(progressQuery);
    return {
      workflowId: d.workflowId,
      runId: d.runId,
      type: d.type,
      status: d.status.name,
      startTime: d.startTime,
      closeTime: d.closeTime ?? null,
      tenantId: owner ?? null,
      summary,
      ...(caller.kind === 'platform' ? { taskQueue: d.taskQueue, historyLength: d.historyLength } : {}),
    };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw notFound('workflow');
    throw err;
  }
}
