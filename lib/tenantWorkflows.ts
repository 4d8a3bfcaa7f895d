// What every tenant workflow start carries: the TenantId search attribute
// (spec §3.8), so operators find a tenant's workflows in the Temporal UI.
import { type SearchAttributePair } from '@temporalio/common';
import { TenantIdSearchAttribute } from '../workflows/searchAttributes';

export function tenantSearchAttributes(tenantId: string): SearchAttributePair[] {
  return [{ key: TenantIdSearchAttribute, value: tenantId }];
}

/** Visibility query for every workflow of one tenant (the tenant id is a UUID, so no quoting issues). */
export function tenantVisibilityQuery(tenantId: string): string {
  if (!/^[0-9a-f-]{36}$/i.test(tenantId)) throw new Error('tenantId must be a UUID');
  return `TenantId = '${tenantId}'`;
}
