// The tenant's suppression list (spec §5.3): an address on it is never sent
// to again and is skipped by later imports. This is the one statement that
// writes it; services/outreach/leads suppressAddress (API, webhooks,
// unsubscribe links) and the enrollment activities both go through it.
import { type EntityManager } from 'typeorm';

export type SuppressionReason = 'unsubscribed' | 'bounced';

/** Adds an address to the current tenant's suppression list (idempotent); the address is normalised to lower case. */
export async function insertSuppression(m: EntityManager, address: string, reason: SuppressionReason): Promise<string> {
  const email = address.trim().toLowerCase();
  await m.query("INSERT INTO suppressions (tenant_id, email, reason) VALUES (current_setting('app.tenant_id')::uuid, $1, $2) ON CONFLICT DO NOTHING", [
    email,
    reason,
  ]);
  return email;
}
