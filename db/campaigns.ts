// A tenant's campaigns (and the inboxes and sequences each uses). Runs in the
// tenant's transaction (RLS).
import { type EntityManager } from 'typeorm';

// — used by access and tenancy —

/** Up to 20 of the customer's campaigns, by id: a customer with campaigns is not deleted under them. */
export async function campaignsOfCustomer(m: EntityManager, customerId: string): Promise<{ id: string; name: string }[]> {
  return (await m.query('SELECT id, name FROM campaigns WHERE customer_id = $1 ORDER BY id LIMIT 20', [customerId])) as {
    id: string;
    name: string;
  }[];
}

/** The customer a campaign belongs to, if the campaign exists. */
export async function customerOfCampaign(m: EntityManager, campaignId: string): Promise<string | undefined> {
  const [c] = (await m.query('SELECT customer_id FROM campaigns WHERE id = $1', [campaignId])) as { customer_id: string }[];
  return c?.customer_id;
}
