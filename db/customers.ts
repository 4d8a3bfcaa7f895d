// Customers (`cust_…`): the agency's client accounts inside a tenant, kept
// with the Customer entity. Runs in the tenant's transaction (RLS): another
// tenant's customer is not there to find.
import { type EntityManager } from 'typeorm';
import { Customer } from './entities';
import { keysetEntities, likePattern, type ListParams, type Page } from './pagination';

export async function customerExists(m: EntityManager, id: string): Promise<boolean> {
  return ((await m.query('SELECT 1 FROM customers WHERE id = $1', [id])) as unknown[]).length > 0;
}

export function findCustomerById(m: EntityManager, id: string): Promise<Customer | null> {
  return m.getRepository(Customer).findOneBy({ id });
}

/**
 * The customer's id and name. Every customer-scoped request asks, so it is
 * one plain statement: an entity load through the repository's query
 * builder allocates a noticeable share of a small request.
 */
export async function customerIdAndName(m: EntityManager, id: string): Promise<{ id: string; name: string } | undefined> {
  const [row] = (await m.query('SELECT id, name FROM customers WHERE id = $1', [id])) as { id: string; name: string }[];
  return row;
}

/** One page of customers, searched by name; only `only` when given. */
export function listCustomerPage(m: EntityManager, list: ListParams, only: string | null): Promise<Page<Customer>> {
  const qb = m.getRepository(Customer).createQueryBuilder('c');
  if (list.q) qb.andWhere("c.name ILIKE :q ESCAPE '\\'", { q: likePattern(list.q) });
  if (only) qb.andWhere('c.id = :only', { only });
  return keysetEntities(qb, list, 'asc', { name: 'lower(name)' });
}

/** Inserts a new customer or stores a loaded one's changes; answers the saved entity. */
export function saveCustomer(m: EntityManager, customer: Pick<Customer, 'id' | 'name'> | Customer): Promise<Customer> {
  return m.getRepository(Customer).save(customer);
}

export async function deleteCustomerById(m: EntityManager, id: string): Promise<void> {
  await m.getRepository(Customer).delete({ id });
}

/** How many customers the tenant of `m`'s transaction sees. */
export function countCustomers(m: EntityManager): Promise<number> {
  return m.getRepository(Customer).count();
}
