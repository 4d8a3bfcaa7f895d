// Plan limits checked by the API (spec §5.5): inboxes, seats and campaigns.
// The count and the insert that follows share the request's transaction, and
// the tenant's billing account row is locked first, so two requests racing for
// the last unit cannot both get it. Over the limit → 402 plan_limit_reached,
// naming the limit, and nothing is written. A route of a plan feature the
// tenant does not have answers 402 plan_feature_required, naming the feature.
import { type EntityManager } from 'typeorm';
import { entitlementLimit, hasFeature } from '../../db/entitlements';
import { lockBillingAccount } from '../../db/sendQuota';
import { ApiError } from '../../lib/errors';
import { type FeatureKey, type LimitKey } from '../../lib/plans';

const COUNTS: Record<Exclude<LimitKey, 'monthly_sends'>, string> = {
  inboxes: 'SELECT count(*)::int AS n FROM inboxes',
  campaigns: "SELECT count(*)::int AS n FROM campaigns WHERE status <> 'archived'",
  // Members plus invitations still open (each will take a seat when accepted).
  seats: `SELECT (SELECT count(*) FROM memberships) + (SELECT count(*) FROM invites WHERE accepted_at IS NULL AND expires_at > now() AND role_id IS NOT NULL)::int AS n`,
};

export const PLAN_LIMIT_STATUS = { 402: 'plan_limit_reached: the plan allows no more of this (details.limit names which)' } as const;
export const PLAN_FEATURE_STATUS = { 402: 'plan_feature_required: the plan does not include this feature (details.feature names which)' } as const;

export const featureRequired = (feature: FeatureKey) =>
  new ApiError(402, 'plan_feature_required', `your plan does not include ${feature.replace('_', ' ')}; upgrade to use it`, { feature });

/** Throws 402 plan_feature_required unless the tenant's plan includes `feature` (a missing row fails closed: db/entitlements). */
export async function assertFeature(m: EntityManager, feature: FeatureKey): Promise<void> {
  if (!(await hasFeature(m, feature))) throw featureRequired(feature);
}

/** The tenant's limit for `key` (null: unlimited) and what it uses now. */
export async function limitUsage(m: EntityManager, key: Exclude<LimitKey, 'monthly_sends'>): Promise<{ limit: number | null; used: number }> {
  const limit = (await entitlementLimit(m, key)) ?? null;
  const [c] = (await m.query(COUNTS[key])) as { n: number }[];
  return { limit, used: Number(c!.n) };
}

/** Throws 402 when one more `key` would pass the plan's limit. */
export async function assertWithinLimit(m: EntityManager, key: Exclude<LimitKey, 'monthly_sends'>): Promise<void> {
  await lockBillingAccount(m);
  const { limit, used } = await limitUsage(m, key);
  if (limit !== null && used + 1 > limit) {
    throw new ApiError(402, 'plan_limit_reached', `your plan allows ${limit} ${key}; upgrade to add more`, { limit: key, max: limit, used });
  }
}
