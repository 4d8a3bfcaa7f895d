// — used by outreach services —
import { type EntityManager } from 'typeorm';

/** Whether the tenant (of the transaction's context) has the customer. */
export async function customerExists(m: EntityManager, customerId: string): Promise<boolean> {
  const [customer] = (await m.query('SELECT 1 FROM customers WHERE id = $1', [customerId])) as unknown[];
  return customer !== undefined;
}
