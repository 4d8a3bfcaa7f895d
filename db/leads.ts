// Lead rows: a customer's contacts, the people campaigns write to.
import { type EntityManager } from 'typeorm';
import { LEAD_OF_ENROLLMENT } from './enrollments';

// — used by the send path —

/**
 * Marks the lead of an enrollment as stopped by it (replied, bounced,
 * unsubscribed) while it is still active; the address when it was marked.
 */
export async function markEnrollmentLeadStopped(
  m: EntityManager,
  enrollmentId: string,
  status: 'replied' | 'bounced' | 'unsubscribed',
): Promise<string | undefined> {
  const [lead] = (await m.query(`UPDATE leads SET status = $2, updated_at = now() WHERE id = ${LEAD_OF_ENROLLMENT} AND status = 'active' RETURNING email`, [
    enrollmentId,
    status,
  ])) as [{ email: string }[], number];
  return lead[0]?.email;
}
