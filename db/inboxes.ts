// A tenant's inboxes and the provider accounts they come from. Runs in the
// tenant's transaction (RLS).
import { type EntityManager } from 'typeorm';

// — used by access and tenancy —

/** A customer's provider account with the count of its inboxes. */
export interface ProviderAccountStatusRow {
  provider: string;
  status: string;
  external_account_id: string | null;
  api_key_key_id: string | null;
  last_synced_at: Date | null;
  error: string | null;
  inboxes: number;
}

export async function providerAccountsOfCustomer(m: EntityManager, customerId: string): Promise<ProviderAccountStatusRow[]> {
  return (await m.query(
    `SELECT a.provider, a.status, a.external_account_id, a.api_key_key_id, a.last_synced_at, a.error,
                (SELECT count(*)::int FROM inboxes i WHERE i.customer_id = a.customer_id AND i.provider = a.provider) AS inboxes
           FROM provider_accounts a WHERE a.customer_id = $1`,
    [customerId],
  )) as ProviderAccountStatusRow[];
}
