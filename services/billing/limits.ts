// Plan limits checked by the API (spec §5.5): inboxes, seats and campaigns.
// The count and the insert that follows share the request's transaction, and
// the tenant's billing account row is locked first, so two requests racing for
// the last unit cannot both get it. Over the limit → 402 plan_limit_reached,
// naming the limit, and nothing is written.
import { type EntityManager } from 'typeorm';
import { lockBillingAccount } from '../../db/sendQuota';
import { ApiError } from '../../lib/errors';
import { type LimitKey } from '../../lib/plans';

const COUNTS: Record<Exclude<LimitKey, 'monthly_sends'>, string> = {
  inboxes: 'SELECT count(*)::int AS n FROM inboxes',
  campaigns: "SELECT count(*)::int AS n FROM campaigns WHERE status <> 'archived'",
  // Members plus invitations still open (each will take a seat when accepted).
  seats: `SELECT (SELECT count(*) FROM memberships) + (SELECT count(*) FROM invites WHERE accepted_at IS NULL AND expires_at > now() AND role_id IS NOT NULL)::int AS n`,
};

export const PLAN_LIMIT_STATUS = { 402: 'plan_limit_reached: the plan allows no more of this (details.limit names which)' } as const;

/** The tenant's limit for `key` (null: unlimited) and what it uses now. */
export async function limitUsage(m: EntityManager, key: Exclude<LimitKey, 'monthly_sends'>): Promise<{ limit: number | null; used: number }> {
  const [e] = (await m.query('SELECT enabled, limit_value FROM entitlements WHERE key = $1', [key])) as { enabled: boolean; limit_value: number | null }[];
  const [c] = (await m.query(COUNTS[key])) as { n: number }[];
  return { limit: e ? (e.enabled ? e.limit_value : 0) : null, used: Number(c!.n) };
}

/** Throws 402 when one more `key` would pass the plan's limit. */
export async function assertWithinLimit(m: EntityManager, key: Exclude<LimitKey, 'monthly_sends'>): Promise<void> {
  await lockBillingAccount(m);
  const { limit, used } = await limitUsage(m, key);
  if (limit !== null && used + 1 > limit) {
    throw new ApiError(402, 'plan_limit_reached', `your plan allows ${limit} ${key}; upgrade to add more`, { limit: key, max: limit, used });
  }
}
