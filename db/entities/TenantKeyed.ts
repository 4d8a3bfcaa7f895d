// Every tenant-owned table's key leads with tenant_id, then the row's prefixed
// id. The TenantGuard subscriber fills tenantId from the transaction's tenant
// context on insert and refuses any other tenant.
import { PrimaryColumn } from 'typeorm';

export abstract class TenantKeyed {
  @PrimaryColumn('uuid', { name: 'tenant_id' })
  tenantId: string;

  @PrimaryColumn('text')
  id: string;
}
