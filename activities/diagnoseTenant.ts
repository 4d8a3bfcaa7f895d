// Activities behind diagnoseTenant: read what the tenant's RLS context can
// see, and who the worker is connected as.
import { ApplicationFailure } from '@temporalio/common';
import { type DataSource } from 'typeorm';
import { Customer, Tenant } from '../db/entities';
import { withTenant } from '../db/tenantContext';
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
      const tenant = await deps.dataSource.getRepository(Tenant).findOneBy({ id: input.tenantId });
      if (!tenant) throw ApplicationFailure.nonRetryable('tenant not found', TENANT_NOT_FOUND);
      return withTenant(deps.dataSource, input.tenantId, async (manager) => {
        const [ctx] = (await manager.query(
          `SELECT current_setting('app.tenant_id', true) AS tenant_id, now() AS checked_at,
                  r.rolname AS name, r.rolsuper AS superuser, r.rolbypassrls AS bypass_rls
             FROM pg_roles r WHERE r.rolname = current_user`,
        )) as { tenant_id: string | null; checked_at: Date; name: string; superuser: boolean; bypass_rls: boolean }[];
        const customers = await manager.getRepository(Customer).count();
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
