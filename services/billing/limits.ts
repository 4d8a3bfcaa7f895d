// Plan limits checked by the API (docs/security.md, "Billing: paid, not asked"): inboxes, seats and campaigns.
// The count and the insert that follows share the request's transaction, and
// the tenant's billing account row is locked first, so two requests racing for
// the last unit cannot both get it. Over the limit → 402 plan_limit_reached,
// naming the limit, and nothing is written. A route of a plan feature the
// tenant does not have answers 402 plan_feature_required, naming the feature.
import { type EntityManager } from 'typeorm';
import { hasFeature, limitUsage } from '../../db/entitlements';
import { lockBillingAccount } from '../../db/sendQuota';
import { ApiError } from '../../lib/errors';
import { type FeatureKey, type LimitKey } from '../../lib/plans';

export const PLAN_LIMIT_STATUS = { 402: 'plan_limit_reached: the plan allows no more of this (details.limit names which)' } as const;
export const PLAN_FEATURE_STATUS = { 402: 'plan_feature_required: the plan does not include this feature (details.feature names which)' } as const;

export const featureRequired = (feature: FeatureKey) =>
  new ApiError(402, 'plan_feature_required', `your plan does not include ${feature.replace('_', ' ')}; upgrade to use it`, { feature });

/** Throws 402 plan_feature_required unless the tenant's plan includes `feature` (a missing row fails closed: db/entitlements). */
export async function assertFeature(m: EntityManager, feature: FeatureKey): Promise<void> {
  if (!(await hasFeature(m, feature))) throw featureRequired(feature);
}

/** Throws 402 when one more `key` would pass the plan's limit. */
export async function assertWithinLimit(m: EntityManager, key: Exclude<LimitKey, 'monthly_sends'>): Promise<void> {
  await lockBillingAccount(m);
  const { limit, used } = await limitUsage(m, key);
  if (limit !== null && used + 1 > limit) {
    throw new ApiError(402, 'plan_limit_reached', `your plan allows ${limit} ${key}; upgrade to add more`, { limit: key, max: limit, used });
  }
}
