// The ORM's tenant guard: on insert, stamps tenant_id from the tenant context;
// refuses to insert, update or load an entity whose tenant is not the
// context's. RLS already filters rows; this catches the code path that builds
// an entity for the wrong tenant before the database has to.
import { type EntitySubscriberInterface, type InsertEvent, type LoadEvent, type UpdateEvent, EventSubscriber } from 'typeorm';
import { currentTenantId } from '../tenantContext';

export class TenantMismatchError extends Error {
  constructor(entity: string, action: string) {
    super(`tenant guard: ${action} of ${entity} outside its tenant's context`);
  }
}

function hasTenantColumn(event: { metadata: { findColumnWithPropertyName(name: string): unknown } }): boolean {
  return Boolean(event.metadata.findColumnWithPropertyName('tenantId'));
}

type TenantOwned = { tenantId?: string };

@EventSubscriber()
export class TenantGuard implements EntitySubscriberInterface {
  beforeInsert(event: InsertEvent<TenantOwned>): void {
    if (!hasTenantColumn(event) || !event.entity) return;
    const tenantId = currentTenantId();
    if (!tenantId) throw new TenantMismatchError(event.metadata.name, 'insert');
    if (event.entity.tenantId === undefined) event.entity.tenantId = tenantId;
    else if (event.entity.tenantId !== tenantId) throw new TenantMismatchError(event.metadata.name, 'insert');
  }

  beforeUpdate(event: UpdateEvent<TenantOwned>): void {
    if (!hasTenantColumn(event) || !event.entity) return;
    const tenantId = currentTenantId();
    const entityTenant = (event.entity as TenantOwned).tenantId ?? (event.databaseEntity as TenantOwned | undefined)?.tenantId;
    if (!tenantId || (entityTenant !== undefined && entityTenant !== tenantId)) throw new TenantMismatchError(event.metadata.name, 'update');
  }

  afterLoad(entity: TenantOwned, event?: LoadEvent<TenantOwned>): void {
    if (!event || !hasTenantColumn(event) || entity.tenantId === undefined) return;
    const tenantId = currentTenantId();
    if (tenantId && entity.tenantId !== tenantId) throw new TenantMismatchError(event.metadata.name, 'load');
  }
}
