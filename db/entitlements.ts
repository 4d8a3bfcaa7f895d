// A tenant's entitlements, as the billing workflow wrote them for its
// entitled plan (docs/security.md, "Billing: paid, not asked"): the API
// (services/billing/limits) and the activities read them here. Runs in the
// tenant's transaction (RLS).
import { type EntityManager } from 'typeorm';
import { type FeatureKey, type LimitKey } from '../lib/plans';

/** The limit for `key` (null: unlimited; a disabled row: 0), or undefined when the tenant has no row. */
export async function entitlementLimit(m: EntityManager, key: LimitKey): Promise<number | null | undefined> {
  const [e] = (await m.query('SELECT enabled, limit_value FROM entitlements WHERE key = $1', [key])) as { enabled: boolean; limit_value: number | null }[];
  return e ? (e.enabled ? e.limit_value : 0) : undefined;
}

/**
 * Whether the tenant's plan includes `feature`. A missing row is "no": the
 * billing workflow writes every feature's row and a migration wrote them for
 * tenants that had none, so a gap is a fault that must not open the feature.
 */
export async function hasFeature(m: EntityManager, feature: FeatureKey): Promise<boolean> {
  const [e] = (await m.query('SELECT enabled FROM entitlements WHERE key = $1', [feature])) as { enabled: boolean }[];
  return e?.enabled === true;
}
