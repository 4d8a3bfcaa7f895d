// The tenant's suppression list: an address on it is never sent to again and
// is skipped by later imports. Suppressing an address is one act over three
// families, in the caller's transaction: the address is listed, its leads are
// marked and its running enrollments stopped (`suppressAddressAndStop`; the API,
// e-mail webhooks and unsubscribe links go through it). `insertSuppression`
// is the one statement that writes the list; the enrollment activities call
// it directly.
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

/** Which of these (lower-cased) addresses are suppressed. */
export async function suppressedAmong(m: EntityManager, emails: string[]): Promise<Set<string>> {
  return new Set(((await m.query('SELECT email FROM suppressions WHERE email = ANY($1)', [emails])) as { email: string }[]).map((r) => r.email));
}

/** An enrollment a suppression stopped; `sequence_version` is null for one that never started. */
export interface StoppedEnrollment {
  id: string;
  campaign_id: string;
  lead_id: string;
  sequence_version: number | null;
}

/**
 * Suppresses the address: listed for every later import, its leads marked and
 * every running enrollment of it stopped. Answers the enrollments it stopped.
 */
export async function suppressAddressAndStop(m: EntityManager, address: string, reason: SuppressionReason): Promise<StoppedEnrollment[]> {
  const email = await insertSuppression(m, address, reason);
  await m.query('UPDATE leads SET status = $2, updated_at = now() WHERE email = $1', [email, reason]);
  const [rows] = (await m.query(
    `UPDATE enrollments SET status = $2, next_send_at = NULL, updated_at = now()
      WHERE lead_id IN (SELECT id FROM leads WHERE email = $1) AND status IN ('pending', 'active', 'paused')
      RETURNING id, campaign_id, lead_id, sequence_version`,
    [email, reason],
  )) as [StoppedEnrollment[], number];
  return rows;
}
