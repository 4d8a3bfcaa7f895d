// Tenant rows (a platform table).
import { type EntityManager } from 'typeorm';

// — used by the send path —

/** Whether a tenant with this id exists (a webhook's dead letter says which it was). */
export async function tenantExists(m: EntityManager, tenantId: string): Promise<boolean> {
  const [tenant] = (await m.query('SELECT id FROM tenants WHERE id = $1', [tenantId])) as unknown[];
  return tenant !== undefined;
}
