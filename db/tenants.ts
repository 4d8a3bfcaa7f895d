// The platform's tenants table: registrations, provisioning progress
// (`provisioning`, jsonb) and the settings the industry template gives. It is
// the list of tenants itself, so it has no RLS; these statements run on the
// data source or inside whichever transaction the caller holds. Row types are
// db/rows/tenants.ts.
import { type Pool } from 'pg';
import { type DataSource, type EntityManager } from 'typeorm';
import { Tenant } from './entities';
import { type TenantRecord } from './rows/tenants';
import { ApiError } from '../lib/errors';
import { decodeCursor, keysetPage, type ListParams, type Page } from './pagination';

/** A DataSource, or the EntityManager of the caller's transaction. */
type Db = DataSource | EntityManager;

/** The tenant's name, if it exists. */
export async function tenantName(db: Db, tenantId: string): Promise<string | undefined> {
  return ((await db.query('SELECT name FROM tenants WHERE id = $1', [tenantId])) as { name: string }[])[0]?.name;
}

/** Whether a tenant with this id exists (a webhook's dead letter says which it was; a token names one). */
export async function tenantExists(db: Db, tenantId: string): Promise<boolean> {
  const [tenant] = (await db.query('SELECT id FROM tenants WHERE id = $1', [tenantId])) as unknown[];
  return tenant !== undefined;
}

export function findTenant(db: Db, tenantId: string): Promise<Tenant | null> {
  return db.getRepository(Tenant).findOneBy({ id: tenantId });
}

export interface TenantRegistration {
  id: string;
  slug: string;
  name: string;
  externalCustomerId: string;
  industry: string;
  registrationHash: string;
  ownerEmail: string;
  ownerName: string;
  pendingOwnerPasswordHash: string | null;
  selfRegistered: boolean;
}

/**
 * Records a registration, status provisioning; false when the
 * externalCustomerId was registered before. A taken slug throws the unique
 * violation (23505).
 */
export async function insertTenantRegistration(db: Db, r: TenantRegistration): Promise<boolean> {
  const rows = (await db.query(
    `INSERT INTO tenants (id, slug, name, status, external_customer_id, industry, registration_hash, owner_email, owner_name, pending_owner_password_hash, self_registered)
       VALUES ($1, $2, $3, 'provisioning', $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (external_customer_id) DO NOTHING RETURNING id`,
    [r.id, r.slug, r.name, r.externalCustomerId, r.industry, r.registrationHash, r.ownerEmail, r.ownerName, r.pendingOwnerPasswordHash, r.selfRegistered],
  )) as unknown[];
  return rows.length === 1;
}

/** The tenant registered with this externalCustomerId. */
export async function findRegistration(db: Db, externalCustomerId: string): Promise<{ id: string; status: string; registration_hash: string } | undefined> {
  const [existing] = (await db.query('SELECT id, status, registration_hash FROM tenants WHERE external_customer_id = $1', [externalCustomerId])) as {
    id: string;
    status: string;
    registration_hash: string;
  }[];
  return existing;
}

/** A tenant as the platform's tenant views show it; `P` types its provisioning progress. */
export type TenantSummaryRow<P> = Pick<
  TenantRecord<P>,
  'id' | 'name' | 'slug' | 'status' | 'industry' | 'created_at' | 'provisioning' | 'billing_plan' | 'billing_status'
>;

const TENANT_SELECT = 'SELECT id, name, slug, status, industry, created_at, provisioning, billing_plan, billing_status FROM tenants';

/**
 * One page of tenants, newest first (ids are UUIDv7, so id order is creation
 * order), optionally those whose name or slug contains `q`.
 */
export function listTenantRows<P>(db: Db, query: ListParams): Promise<Page<TenantSummaryRow<P>>> {
  const after = decodeCursor(query.cursor);
  // A cursor is opaque but decodable: one that does not name a tenant id is a bad cursor, not a failed cast.
  if (after && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(after)) throw new ApiError(400, 'invalid_cursor', 'cursor is not valid');
  return keysetPage<TenantSummaryRow<P>>('manager' in db ? db.manager : db, query, {
    select: TENANT_SELECT,
    key: 'id',
    order: 'desc',
    where: [],
    search: ['name', 'slug'],
    idOf: (t) => t.id,
  });
}

export async function findTenantRow<P>(db: Db, tenantId: string): Promise<TenantSummaryRow<P> | undefined> {
  const [t] = (await db.query(`${TENANT_SELECT} WHERE id = $1`, [tenantId])) as TenantSummaryRow<P>[];
  return t;
}

export async function tenantStatus(db: Db, tenantId: string): Promise<string | undefined> {
  const [t] = (await db.query('SELECT status FROM tenants WHERE id = $1', [tenantId])) as { status: string }[];
  return t?.status;
}

/** A failed provisioning runs again: status provisioning, progress running, its error forgotten. */
export async function markProvisioningRetried(db: Db, tenantId: string): Promise<void> {
  await db.query("UPDATE tenants SET status = 'provisioning', provisioning = provisioning || '{\"status\":\"running\"}'::jsonb - 'error' WHERE id = $1", [
    tenantId,
  ]);
}

/** What provisioning reads of its tenant. */
export type ProvisioningTenant = Pick<
  TenantRecord,
  | 'id'
  | 'name'
  | 'slug'
  | 'status'
  | 'industry'
  | 'owner_email'
  | 'owner_name'
  | 'pending_owner_password_hash'
  | 'self_registered'
  | 'stripe_customer_id'
  | 'provisioning'
>;

export async function findProvisioningTenant(db: Db, tenantId: string): Promise<ProvisioningTenant | undefined> {
  const rows = (await db.query(
    `SELECT id, name, slug, status, industry, owner_email, owner_name, pending_owner_password_hash, self_registered, stripe_customer_id, provisioning
       FROM tenants WHERE id = $1`,
    [tenantId],
  )) as ProvisioningTenant[];
  return rows[0];
}

/** Merges progress (and bookkeeping) into tenants.provisioning. */
export async function saveProvisioningProgress(m: EntityManager, tenantId: string, patch: Record<string, unknown>): Promise<void> {
  await m.query('UPDATE tenants SET provisioning = provisioning || $2::jsonb, updated_at = now() WHERE id = $1', [tenantId, JSON.stringify(patch)]);
}

export async function markTenantProvisioning(m: EntityManager, tenantId: string): Promise<void> {
  await m.query("UPDATE tenants SET status = 'provisioning' WHERE id = $1", [tenantId]);
}

export async function markTenantActive(m: EntityManager, tenantId: string): Promise<void> {
  await m.query("UPDATE tenants SET status = 'active' WHERE id = $1", [tenantId]);
}

export async function markTenantFailed(m: EntityManager, tenantId: string): Promise<void> {
  await m.query("UPDATE tenants SET status = 'failed' WHERE id = $1", [tenantId]);
}

export async function setTenantSettings(m: EntityManager, tenantId: string, settings: unknown): Promise<void> {
  await m.query('UPDATE tenants SET settings = $2::jsonb WHERE id = $1', [tenantId, JSON.stringify(settings)]);
}

export async function clearTenantSettings(m: EntityManager, tenantId: string): Promise<void> {
  await m.query("UPDATE tenants SET settings = '{}'::jsonb WHERE id = $1", [tenantId]);
}

/** The registration's password hash has become the owner's (or was not needed): it is not kept. */
export async function clearPendingOwnerPassword(m: EntityManager, tenantId: string): Promise<void> {
  await m.query('UPDATE tenants SET pending_owner_password_hash = NULL WHERE id = $1', [tenantId]);
}

/** Forgets the owner provisioning created and the link it showed. */
export async function forgetProvisionedOwner(m: EntityManager, tenantId: string): Promise<void> {
  await m.query("UPDATE tenants SET provisioning = provisioning - 'ownerCreatedByProvisioning' - 'ownerInviteUrl' WHERE id = $1", [tenantId]);
}

export async function setStripeCustomerId(db: Db, tenantId: string, customerId: string | null | undefined): Promise<void> {
  await db.query('UPDATE tenants SET stripe_customer_id = $2 WHERE id = $1', [tenantId, customerId]);
}

export async function clearStripeCustomerId(db: Db, tenantId: string): Promise<void> {
  await db.query('UPDATE tenants SET stripe_customer_id = NULL WHERE id = $1', [tenantId]);
}

/** The tenant's name, owner address and Stripe customer (provisioning records the customer). */
export async function tenantStripeCustomer(
  m: EntityManager,
  tenantId: string,
): Promise<Pick<TenantRecord, 'name' | 'owner_email' | 'stripe_customer_id'> | undefined> {
  const [t] = (await m.query('SELECT name, owner_email, stripe_customer_id FROM tenants WHERE id = $1', [tenantId])) as Pick<
    TenantRecord,
    'name' | 'owner_email' | 'stripe_customer_id'
  >[];
  return t;
}

/** Records the tenant's Stripe customer unless it has one already. */
export async function setStripeCustomerIfUnset(m: EntityManager, tenantId: string, customerId: string): Promise<void> {
  await m.query('UPDATE tenants SET stripe_customer_id = $2 WHERE id = $1 AND stripe_customer_id IS NULL', [tenantId, customerId]);
}

/** The tenant whose Stripe customer this is: the one thing a Stripe event is routed by. */
export async function tenantIdByStripeCustomer(m: EntityManager, customerId: string): Promise<{ id: string } | undefined> {
  const [tenant] = (await m.query('SELECT id FROM tenants WHERE stripe_customer_id = $1', [customerId])) as { id: string }[];
  return tenant;
}

/** The tenant's id and Stripe customer, by its slug (the billing:event script). */
export async function tenantStripeCustomerBySlug(ds: DataSource, slug: string): Promise<Pick<TenantRecord, 'id' | 'stripe_customer_id'> | undefined> {
  const [t] = (await ds.query('SELECT id, stripe_customer_id FROM tenants WHERE slug = $1', [slug])) as Pick<TenantRecord, 'id' | 'stripe_customer_id'>[];
  return t;
}

/** The industry the tenant registered with (its template names the plan billing starts on). */
export async function tenantIndustry(ds: DataSource, tenantId: string): Promise<Pick<TenantRecord, 'industry'> | undefined> {
  const [t] = (await ds.query('SELECT industry FROM tenants WHERE id = $1', [tenantId])) as Pick<TenantRecord, 'industry'>[];
  return t;
}

/** The billing workflow's plan and status, copied onto the tenant for the platform's view. */
export async function setTenantBillingStatus(m: EntityManager, tenantId: string, plan: string, status: string): Promise<void> {
  await m.query('UPDATE tenants SET billing_plan = $2, billing_status = $3 WHERE id = $1', [tenantId, plan, status]);
}

/** The tenant's name and owner address (the platform's mail to the owner). */
export async function tenantOwnerContact(m: EntityManager, tenantId: string): Promise<Pick<TenantRecord, 'name' | 'owner_email'> | undefined> {
  const [t] = (await m.query('SELECT name, owner_email FROM tenants WHERE id = $1', [tenantId])) as Pick<TenantRecord, 'name' | 'owner_email'>[];
  return t;
}

/** The tenants a tenant-scoped backfill runs over (every tenant whose rows may exist), on the backfill worker's owner pool. */
export async function backfillTenantIds(pool: Pool): Promise<string[]> {
  const r = await pool.query("SELECT id FROM tenants WHERE status <> 'failed' ORDER BY created_at, id");
  return r.rows.map((row: { id: string }) => row.id);
}

/** The settings the tenant's industry template gave it (`{}` without one). */
export async function tenantSettings(m: EntityManager, tenantId: string): Promise<Record<string, unknown>> {
  const [row] = (await m.query('SELECT settings FROM tenants WHERE id = $1', [tenantId])) as { settings: Record<string, unknown> | null }[];
  return row?.settings ?? {};
}

/** How many days the tenant keeps its analytics events (null: for ever). */
export async function analyticsRetentionDays(db: Db, tenantId: string): Promise<number | null> {
  const [t] = (await db.query('SELECT analytics_retention_days FROM tenants WHERE id = $1', [tenantId])) as { analytics_retention_days: number | null }[];
  return t?.analytics_retention_days ?? null;
}

export async function setAnalyticsRetentionDays(db: Db, tenantId: string, days: number | null): Promise<void> {
  await db.query('UPDATE tenants SET analytics_retention_days = $2, updated_at = now() WHERE id = $1', [tenantId, days]);
}

/** The tenants that keep their analytics events for a limited number of days. */
export async function tenantsWithAnalyticsRetention(db: Db): Promise<{ id: string; days: number }[]> {
  return (await db.query('SELECT id, analytics_retention_days AS days FROM tenants WHERE analytics_retention_days IS NOT NULL ORDER BY id')) as {
    id: string;
    days: number;
  }[];
}

/** The tenant's lead pipeline (`lead_stages`), in its order. */
export async function leadStagesOfTenant(db: Db, tenantId: string): Promise<string[]> {
  const [row] = (await db.query('SELECT lead_stages FROM tenants WHERE id = $1', [tenantId])) as { lead_stages: string[] }[];
  return row?.lead_stages ?? [];
}
