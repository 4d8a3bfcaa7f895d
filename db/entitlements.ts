// A tenant's entitlements, as the billing workflow wrote them for its
// entitled plan (docs/security.md, "Billing: paid, not asked"): the API
// (services/billing/limits) and the activities read them here. Runs in the
// tenant's transaction (RLS).
import { type EntityManager } from 'typeorm';
import { type FeatureKey, type LimitKey } from '../lib/plans';
import { countUnarchivedCampaigns } from './campaigns';
import { countInboxes } from './inboxes';
import { countSeatsTaken } from './memberships';

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

/** What each counted limit counts, in the tenant's transaction: each family's module counts its own rows. */
const COUNTS: Record<Exclude<LimitKey, 'monthly_sends'>, (m: EntityManager) => Promise<number>> = {
  inboxes: countInboxes,
  campaigns: countUnarchivedCampaigns,
  seats: countSeatsTaken,
};

/** The tenant's limit for `key` (null: unlimited) and what it uses now. */
export async function limitUsage(m: EntityManager, key: Exclude<LimitKey, 'monthly_sends'>): Promise<{ limit: number | null; used: number }> {
  const limit = (await entitlementLimit(m, key)) ?? null;
  return { limit, used: await COUNTS[key](m) };
}

/** Every entitlement of the tenant, by key. */
export async function listEntitlements(m: EntityManager): Promise<{ key: string; enabled: boolean; limit_value: number | null }[]> {
  return (await m.query('SELECT key, enabled, limit_value FROM entitlements ORDER BY key')) as {
    key: string;
    enabled: boolean;
    limit_value: number | null;
  }[];
}

/** An entitlement from the industry template (source `template:<key>`); one the tenant has is kept. */
export async function insertTemplateEntitlement(
  m: EntityManager,
  e: { tenantId: string; key: string; enabled: boolean; limit: number | null; source: string },
): Promise<void> {
  await m.query('INSERT INTO entitlements (tenant_id, key, enabled, limit_value, source) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING', [
    e.tenantId,
    e.key,
    e.enabled,
    e.limit,
    e.source,
  ]);
}

/** Removes the entitlements the industry template gave. */
export async function deleteTemplateEntitlements(m: EntityManager): Promise<void> {
  await m.query("DELETE FROM entitlements WHERE source LIKE 'template:%'");
}

/** Writes the entitled plan's rows (limits and features), one statement each, replacing what an earlier plan wrote. */
export async function writeEntitlements(m: EntityManager, rows: [key: string, enabled: boolean, limit: number | null][], source: string): Promise<void> {
  for (const [key, enabled, limit] of rows) {
    await m.query(
      `INSERT INTO entitlements (tenant_id, key, enabled, limit_value, source) VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, $4)
             ON CONFLICT (tenant_id, key) DO UPDATE SET enabled = EXCLUDED.enabled, limit_value = EXCLUDED.limit_value, source = EXCLUDED.source`,
      [key, enabled, limit, source],
    );
  }
}
