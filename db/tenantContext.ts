// Tenant context (docs/architecture.md, "Tenancy in the database"): every piece
// of tenant work runs in a transaction whose first statement is a parameterised
// set_config('app.tenant_id', …, true). `true` makes the setting
// transaction-local, so a pooled connection never carries one tenant's id into
// another's work. The transaction's EntityManager travels in AsyncLocalStorage;
// repositories take it from there, never from a global manager.
import { AsyncLocalStorage } from 'node:async_hooks';
import { type DataSource, type EntityManager } from 'typeorm';
import { isUuid } from './ids';

export interface TenantContext {
  readonly tenantId: string;
  readonly manager: EntityManager;
}

const storage = new AsyncLocalStorage<TenantContext>();

export class NoTenantContextError extends Error {
  constructor() {
    super('no tenant context: wrap tenant work in withTenant()');
  }
}

export async function withTenant<T>(dataSource: DataSource, tenantId: string, fn: (manager: EntityManager) => Promise<T>): Promise<T> {
  if (!isUuid(tenantId)) throw new Error('withTenant: tenantId must be a UUID');
  return dataSource.transaction(async (manager) => {
    await manager.query("SELECT set_config('app.tenant_id', $1, true)", [tenantId]);
    return storage.run({ tenantId, manager }, () => fn(manager));
  });
}

/**
 * Tenant work inside a transaction that is already open and not yet any
 * tenant's (a platform table's row written in the same commit, as webhook
 * events are). The context is set as withTenant sets it and cleared again
 * when `fn` ends, so the rest of the transaction sees no tenant.
 */
export async function withTenantInTransaction<T>(manager: EntityManager, tenantId: string, fn: (manager: EntityManager) => Promise<T>): Promise<T> {
  if (!isUuid(tenantId)) throw new Error('withTenantInTransaction: tenantId must be a UUID');
  if (!manager.queryRunner?.isTransactionActive) throw new Error('withTenantInTransaction: needs an open transaction');
  await manager.query("SELECT set_config('app.tenant_id', $1, true)", [tenantId]);
  try {
    return await storage.run({ tenantId, manager }, () => fn(manager));
  } finally {
    await manager.query("SELECT set_config('app.tenant_id', '', true)");
  }
}

export function tenantContext(): TenantContext {
  const ctx = storage.getStore();
  if (!ctx) throw new NoTenantContextError();
  return ctx;
}

export function currentTenantId(): string | undefined {
  return storage.getStore()?.tenantId;
}

/** A transaction in which the user sees their own memberships across tenants. */
export function withUser<T>(dataSource: DataSource, userId: string, fn: (m: EntityManager) => Promise<T>): Promise<T> {
  return dataSource.transaction(async (manager) => {
    await manager.query("SELECT set_config('app.user_id', $1, true)", [userId]);
    return fn(manager);
  });
}
