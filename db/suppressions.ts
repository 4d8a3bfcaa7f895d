// The tenant's suppression list: an address on it is never sent to again and
// is skipped by later imports. Suppressing an address is one act over three
// families, in the caller's transaction: the address is listed, its leads are
// marked and its running enrollments stopped (`suppressAddressAndStop`; the API,
// e-mail webhooks and unsubscribe links go through it). `insertSuppression`
// is the one statement that writes the list; the enrollment activities call
// it directly.
import { type EntityManager } from 'typeorm';
import { eventInsert } from './analyticsEvents';

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
 * An unsubscribe writes `lead.unsubscribed` in the statement that stops the
 * enrollments (docs/analytics.md): one per enrollment it stopped, and one
 * per lead of the address that had none stopped, now or before.
 */
export async function suppressAddressAndStop(m: EntityManager, address: string, reason: SuppressionReason): Promise<StoppedEnrollment[]> {
  const email = await insertSuppression(m, address, reason);
  await m.query('UPDATE leads SET status = $2, updated_at = now() WHERE email = $1', [email, reason]);
  return (await m.query(
    `WITH stopped AS (
       UPDATE enrollments SET status = $2, next_send_at = NULL, updated_at = now()
        WHERE lead_id IN (SELECT id FROM leads WHERE email = $1) AND status IN ('pending', 'active', 'paused')
        RETURNING id, customer_id, campaign_id, lead_id, sequence_version),
     unsubscribed AS (${eventInsert(
       `(SELECT s.customer_id, s.campaign_id, s.id AS enrollment_id, s.lead_id, 'lead.unsubscribed:' || s.id AS key FROM stopped s
         UNION ALL
         SELECT l.customer_id, NULL, NULL, l.id, 'lead.unsubscribed:' || l.id FROM leads l
          WHERE l.email = $1 AND NOT EXISTS (SELECT 1 FROM stopped s WHERE s.lead_id = l.id)
            AND NOT EXISTS (SELECT 1 FROM enrollments e WHERE e.lead_id = l.id AND e.status = 'unsubscribed')) u`,
       {
         type: "'lead.unsubscribed'",
         customerId: 'u.customer_id',
         campaignId: 'u.campaign_id',
         enrollmentId: 'u.enrollment_id',
         leadId: 'u.lead_id',
         dedupeKey: 'u.key',
       },
       "$2 = 'unsubscribed'",
     )})
     SELECT id, campaign_id, lead_id, sequence_version FROM stopped`,
    [email, reason],
  )) as StoppedEnrollment[];
}
