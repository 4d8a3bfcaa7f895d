// — used by billing —
import { type EntityManager } from 'typeorm';

/** The tenant's enrollments that wait for sends (quota or restriction), in id order. */
export function listQuotaWaiters(m: EntityManager): Promise<{ campaign_id: string; lead_id: string }[]> {
  return m.query('SELECT campaign_id, lead_id FROM enrollments WHERE waiting_for IS NOT NULL ORDER BY id') as Promise<
    { campaign_id: string; lead_id: string }[]
  >;
}
