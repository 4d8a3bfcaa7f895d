// Activities behind diagnoseTenant: read what the tenant's RLS context can
// see, and who the worker is connected as.
import { ApplicationFailure } from '@temporalio/common';
import { type DataSource } from 'typeorm';
import { countCustomers } from '../db/customers';
import { connectionContext, withTenant } from '../db/tenantContext';
import { findTenant } from '../db/tenants';
import { TENANT_NOT_FOUND } from '../workflows/provisionTenant.contract';

export interface InspectTenantDataResult {
  tenantStatus: string;
  customers: number;
  contextTenantId: string | null;
  role: { name: string; superuser: boolean; bypassRls: boolean };
  checkedAt: string;
}

export function createDiagnoseTenantActivities(deps: { dataSource: DataSource }) {
  return {
    async inspectTenantData(input: { tenantId: string }): Promise<InspectTenantDataResult> {
      const tenant = await findTenant(deps.dataSource, input.tenantId);
      if (!tenant) throw ApplicationFailure.nonRetryable('tenant not found', TENANT_NOT_FOUND);
      return withTenant(deps.dataSource, input.tenantId, async (manager) => {
        const ctx = await connectionContext(manager);
        const customers = await countCustomers(manager);
        return {
          tenantStatus: tenant.status,
          customers,
          contextTenantId: ctx?.tenant_id ?? null,
          role: { name: ctx?.name ?? 'unknown', superuser: ctx?.superuser ?? true, bypassRls: ctx?.bypass_rls ?? true },
          checkedAt: (ctx?.checked_at ?? new Date()).toISOString(),
        };
      });
    },
  };
}
