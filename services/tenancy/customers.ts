// Customers (`cust_…`): the agency's client accounts inside a tenant, kept
// with the Customer entity. Another tenant's customer is invisible under RLS
// and answers 404, exactly like one that does not exist; a member restricted
// to one customer sees only that one.
import { campaignsOfCustomer } from '../../db/campaigns';
import { customerIdAndName, deleteCustomerById, findCustomerById, listCustomerPage, saveCustomer } from '../../db/customers';
import { type Customer } from '../../db/entities';
import { isId, newId } from '../../db/ids';
import { type ListParams } from '../../db/pagination';
import { ApiError, notFound } from '../../lib/errors';
import { auditBy } from '../audit';
import { type TenantAccess } from '../context';

export function customerJson(c: Customer) {
  return { id: c.id, name: c.name, createdAt: c.createdAt, updatedAt: c.updatedAt };
}

/** 404 unless `id` is a customer id the caller's membership may address. */
function assertReachable(a: TenantAccess, id: string): void {
  if (!isId('cust', id) || (a.restrictedCustomerId && a.restrictedCustomerId !== id)) throw notFound('customer');
}

/** Finds a customer the caller may see, or 404. */
export async function findCustomer(a: TenantAccess, id: string): Promise<Customer> {
  assertReachable(a, id);
  const c = await findCustomerById(a.manager, id);
  if (!c) throw notFound('customer');
  return c;
}

/** The customer a customer-scoped request works in (X-Customer-Id), or 404. */
export async function customerContext(a: TenantAccess, id: string): Promise<{ id: string; name: string }> {
  assertReachable(a, id);
  const row = await customerIdAndName(a.manager, id);
  if (!row) throw notFound('customer');
  return row;
}

export async function listCustomers(a: TenantAccess, list: ListParams) {
  const p = await listCustomerPage(a.manager, list, a.restrictedCustomerId);
  return { data: p.data.map(customerJson), nextCursor: p.nextCursor };
}

export async function getCustomer(a: TenantAccess, id: string) {
  return customerJson(await findCustomer(a, id));
}

export async function createCustomer(a: TenantAccess, name: string) {
  if (a.restrictedCustomerId)
    throw new ApiError(403, 'forbidden', 'members restricted to one customer cannot create customers', { permission: 'customers.write' });
  const c = await saveCustomer(a.manager, { id: newId('cust'), name });
  await auditBy(a, { action: 'customer_created', outcome: 'success', targetType: 'customer', targetId: c.id });
  return customerJson(c);
}

export async function renameCustomer(a: TenantAccess, id: string, name: string) {
  const c = await findCustomer(a, id);
  c.name = name;
  await saveCustomer(a.manager, c);
  return customerJson(c);
}

/**
 * Campaigns keep the history of what was sent (and their inboxes, which they
 * hold on to): a customer with campaigns is not deleted under them.
 */
export async function deleteCustomer(a: TenantAccess, id: string): Promise<void> {
  const c = await findCustomer(a, id);
  const campaigns = await campaignsOfCustomer(a.manager, c.id);
  if (campaigns.length > 0) {
    throw new ApiError(
      409,
      'customer_in_use',
      `this customer has campaigns (${campaigns.map((x) => x.name).join(', ')}): it cannot be deleted while they exist`,
      {
        campaigns: campaigns.map((x) => ({ id: x.id, name: x.name })),
      },
    );
  }
  await deleteCustomerById(a.manager, c.id);
  await auditBy(a, { action: 'customer_deleted', outcome: 'success', targetType: 'customer', targetId: c.id });
}
