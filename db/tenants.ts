// — used by billing —
import { type Pool } from 'pg';
import { type DataSource, type EntityManager } from 'typeorm';
import { type TenantRecord } from './rows/tenants';

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
export async function setTenantStripeCustomer(m: EntityManager, tenantId: string, customerId: string): Promise<void> {
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

/** Whether a tenant has this id. */
export async function tenantExists(ds: DataSource, tenantId: string): Promise<boolean> {
  return ((await ds.query('SELECT 1 FROM tenants WHERE id = $1', [tenantId])) as unknown[]).length > 0;
}

/** The tenants a tenant-scoped backfill runs over (every tenant whose rows may exist), on the backfill worker's owner pool. */
export async function backfillTenantIds(pool: Pool): Promise<string[]> {
  const r = await pool.query("SELECT id FROM tenants WHERE status <> 'failed' ORDER BY created_at, id");
  return r.rows.map((row: { id: string }) => row.id);
}
