// Generated data for the benchmark, written as the owner role inside each
// tenant's context (FORCE RLS binds the owner too): tenants on an unmetered
// account, their roles, an owner who signs in through the API, customers and
// leads by the million.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { type DataSource } from 'typeorm';
import { newId } from '../../db/ids';
import { withTenant } from '../../db/tenantContext';
import { applyTemplateRoles } from '../../db/tenantRoles';
import { industryTemplate } from '../../lib/industryTemplates';
import { hashPassword } from '../../lib/passwords';
import { FEATURE_KEYS } from '../../lib/plans';

export const PASSWORD = 'bench password, not a secret';

export interface BenchTenant {
  tenantId: string;
  customers: string[];
  email: string;
}

/** One transaction in a tenant's context. */
export async function inTenant<T>(pool: pg.Pool, tenantId: string, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    await c.query("SELECT set_config('app.tenant_id', $1, true)", [tenantId]);
    const r = await fn(c);
    await c.query('COMMIT');
    return r;
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    c.release();
  }
}

let hash: Promise<string> | undefined;

export async function createBenchTenant(owner: DataSource, label: string, customers = 1): Promise<BenchTenant> {
  hash ??= hashPassword(PASSWORD);
  const tenantId = randomUUID();
  const slug = `bench-${label}-${tenantId.slice(0, 8)}`;
  const email = `${slug}@bench.example`;
  await owner.query("INSERT INTO tenants (id, slug, name, status) VALUES ($1, $2, $3, 'active')", [tenantId, slug, `Bench ${label}`]);
  const userId = newId('usr');
  await owner.query('INSERT INTO users (id, email, name, password_hash, email_verified_at) VALUES ($1, $2, $3, $4, now())', [
    userId,
    email,
    `Bench ${label}`,
    await hash,
  ]);
  const customerIds = Array.from({ length: customers }, () => newId('cust'));
  await withTenant(owner, tenantId, async (m) => {
    // No monthly_sends entitlement: the account is unmetered, so quotas stay out of the measurement.
    await m.query('INSERT INTO billing_accounts (tenant_id) VALUES ($1)', [tenantId]);
    // Every plan feature on: a tenant without a feature's row is refused it (docs/security.md).
    for (const key of FEATURE_KEYS)
      await m.query("INSERT INTO entitlements (tenant_id, key, enabled, limit_value, source) VALUES ($1, $2, true, NULL, 'bench')", [tenantId, key]);
    const roles = await applyTemplateRoles(m, industryTemplate('agency')!);
    await m.query('INSERT INTO memberships (tenant_id, id, user_id, role_id) VALUES ($1, $2, $3, $4)', [tenantId, newId('mem'), userId, roles.owner]);
    for (const [i, id] of customerIds.entries())
      await m.query('INSERT INTO customers (tenant_id, id, name) VALUES ($1, $2, $3)', [tenantId, id, `Customer ${i + 1}`]);
  });
  return { tenantId, customers: customerIds, email };
}

/** `count` leads for one customer, generated in the database; ids sort in insertion order. */
export async function generateLeads(owner: pg.Pool, t: BenchTenant, customerId: string, count: number, prefix: string): Promise<void> {
  const base = idBase('lead');
  await inTenant(owner, t.tenantId, (c) =>
    c.query(
      `INSERT INTO leads (tenant_id, id, customer_id, email, email_domain, first_name, last_name, company, source)
       SELECT $1, $2 || lpad(to_char(k, 'FM99999999999'), 11, '0'), $3, $4 || k || '@' || d || '.example', d || '.example',
              'First' || k, 'Last' || (k % 997), 'Company ' || (k % 5003), 'api'
         FROM generate_series(1, $5::int) k, LATERAL (SELECT 'domain' || (k % 211) AS d) x`,
      [t.tenantId, base, customerId, prefix, count],
    ),
  );
}

/** An id prefix that, followed by 11 digits, makes a well-formed id of that kind. */
export function idBase(prefix: 'lead' | 'enr'): string {
  const id = newId(prefix);
  return id.slice(0, id.length - 11);
}

/** Enrolls `count` of the customer's leads (pending), as adding them to the campaign does. */
export async function enrollLeads(owner: pg.Pool, t: BenchTenant, customerId: string, campaignId: string, count: number): Promise<void> {
  await inTenant(owner, t.tenantId, (c) =>
    c.query(
      `INSERT INTO enrollments (tenant_id, id, customer_id, campaign_id, lead_id)
       SELECT $1, $2 || lpad(row_number() OVER (ORDER BY id)::text, 11, '0'), $3, $4, id
         FROM (SELECT id FROM leads WHERE customer_id = $3 ORDER BY id LIMIT $5) l`,
      [t.tenantId, idBase('enr'), customerId, campaignId, count],
    ),
  );
}
