// Inboxes and the provider accounts they send through.
import { type EntityManager } from 'typeorm';
import { type InboxSender } from './rows/inboxes';

// — used by the send path —

/** The inbox a step is sent from (every column: the send picks what it needs). */
export async function readInboxSender(m: EntityManager, inboxId: string | null): Promise<InboxSender | undefined> {
  const [inbox] = (await m.query('SELECT * FROM inboxes WHERE id = $1', [inboxId])) as InboxSender[];
  return inbox;
}

/** The customer's active Smartlead account's sealed API key. */
export async function readSmartleadKey(
  m: EntityManager,
  customerId: string,
): Promise<{ api_key_ciphertext: string | null; api_key_key_id: string | null } | undefined> {
  const [account] = (await m.query(
    "SELECT api_key_ciphertext, api_key_key_id FROM provider_accounts WHERE customer_id = $1 AND provider = 'smartlead' AND status = 'active'",
    [customerId],
  )) as {
    api_key_ciphertext: string | null;
    api_key_key_id: string | null;
  }[];
  return account;
}
