// diagnoseTenant: an operator's check that a tenant's data path works end to
// end (Temporal → worker → PostgreSQL under the tenant's RLS context), and
// that the worker's database role cannot bypass row-level security.
import { ApplicationFailure, log, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { TENANT_NOT_FOUND } from './provisionTenant.contract';

const { inspectTenantData } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 5, nonRetryableErrorTypes: [TENANT_NOT_FOUND] },
});

export interface DiagnoseTenantInput {
  tenantId: string;
}

export interface DiagnoseTenantResult {
  tenantId: string;
  tenantStatus: string;
  customers: number;
  /** The worker's role is neither superuser nor BYPASSRLS, and saw only this tenant's context. */
  rowLevelSecurityEnforced: boolean;
  checkedAt: string;
}

export async function diagnoseTenant(input: DiagnoseTenantInput): Promise<DiagnoseTenantResult> {
  const report = await inspectTenantData({ tenantId: input.tenantId });
  const rowLevelSecurityEnforced = !report.role.superuser && !report.role.bypassRls && report.contextTenantId === input.tenantId;
  if (!rowLevelSecurityEnforced) {
    // A failed diagnosis is a finding, not a transient error: do not retry it.
    throw ApplicationFailure.nonRetryable(`row-level security is not enforced for role ${report.role.name}`, 'rls_not_enforced');
  }
  log.info('tenant diagnosed', { workflowId: workflowInfo().workflowId, customers: report.customers });
  return {
    tenantId: input.tenantId,
    tenantStatus: report.tenantStatus,
    customers: report.customers,
    rowLevelSecurityEnforced,
    checkedAt: report.checkedAt,
  };
}
