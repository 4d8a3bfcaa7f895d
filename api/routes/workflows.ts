// GET /api/workflows/:workflowId (spec §3.8): a platform admin describes any
// workflow; a tenant credential only its own tenant's, with the permission
// the workflow's kind needs. Another tenant's id is audited and answers 404.
import { type Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { type DataSource } from 'typeorm';
import { isId } from '../../db/ids';
import { forbidden, notFound } from '../../lib/errors';
import { type Permission } from '../../lib/permissions';
import { auditInOwnTransaction } from '../../services/audit';
import { type TenantAccess } from '../../services/context';
import { tenantIdOfWorkflowId } from '../../workflows/ids';
import { progressQuery } from '../../workflows/provisionTenant.shared';
import { access, unauthenticated } from '../access';
import { type Routes } from '../routing';
import * as R from '../schemas/responses';

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
    const [c] = (await a.manager.query('SELECT customer_id FROM campaigns WHERE id = $1', [rest[1]])) as { customer_id: string }[];
    if (!c || (a.restrictedCustomerId && a.restrictedCustomerId !== c.customer_id)) throw notFound('workflow');
    return;
  }
  if (rest[0] === 'provision' || rest[0] === 'diagnose') {
    need('settings.manage');
    if (a.restrictedCustomerId) throw notFound('workflow');
    return;
  }
  throw notFound('workflow');
}

export function workflowRoutes(r: Routes, deps: { dataSource: DataSource; client: Client }) {
  const ds = deps.dataSource;
  r.add({ method: 'get', path: '/api/workflows/:workflowId', response: R.workflowDescription, summary: 'Describe a workflow of your tenant (URL-encode the id); the permission follows its kind: settings.manage (tenant), customers.read (customer), campaigns.read (enrollment)', tag: 'workflows', auth: 'tenant', platformToo: true }, async ({ ctx }) => {
    const workflowId = ctx.params.workflowId ?? '';
    const p = ctx.state.principal;
    if (!p) throw unauthenticated();
    const owner = tenantIdOfWorkflowId(workflowId);
    const isAdmin = p.kind === 'session' && p.isPlatformAdmin;
    if (!isAdmin) {
      const a = access(ctx);
      if (!owner || owner !== a.tenantId) {
        if (owner) {
          await auditInOwnTransaction(ds, a.tenantId, {
            action: 'cross_tenant_attempt',
            outcome: 'denied',
            actorUserId: a.userId,
            actorTokenId: a.tokenId,
            requestId: ctx.state.requestId,
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
      ctx.body = {
        workflowId: d.workflowId,
        runId: d.runId,
        type: d.type,
        status: d.status.name,
        startTime: d.startTime,
        closeTime: d.closeTime ?? null,
        tenantId: owner ?? null,
        summary,
        ...(isAdmin ? { taskQueue: d.taskQueue, historyLength: d.historyLength } : {}),
      };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw notFound('workflow');
      throw err;
    }
  });

}
