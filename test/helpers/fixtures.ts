// Fixture rows, written as the owner role inside the tenant's context (FORCE
// RLS applies to the owner too).
import { type DataSource } from 'typeorm';
import { Customer, Tenant } from '../../db/entities';
import { newId, uuidv7 } from '../../db/ids';
import { withTenant } from '../../db/tenantContext';

export async function createTenant(owner: DataSource, opts: { name?: string; customers?: number } = {}): Promise<{ tenant: Tenant; customers: Customer[] }> {
  const id = uuidv7();
  const tenant = await owner.getRepository(Tenant).save({
    id,
    slug: `t-${id.slice(-12)}`,
    name: opts.name ?? `Tenant ${id.slice(-6)}`,
    status: 'active',
  });
  const customers = await withTenant(owner, id, async (manager) => {
    const rows: Customer[] = [];
    for (let i = 0; i < (opts.customers ?? 0); i++) {
      rows.push(await manager.getRepository(Customer).save({ tenantId: id, id: newId('cust'), name: `Customer ${i + 1}` }));
    }
    return rows;
  });
  return { tenant, customers };
}
