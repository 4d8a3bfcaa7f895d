// Fixture rows, written as the owner role inside the tenant's context (FORCE
// RLS applies to the owner too).
import { type DataSource } from 'typeorm';
import { Customer, Membership, Tenant, User } from '../../db/entities';
import { newId, uuidv7 } from '../../db/ids';
import { applyTemplateRoles } from '../../db/tenantRoles';
import { industryTemplate } from '../../lib/industryTemplates';
import { withTenant } from '../../db/tenantContext';
import { hashPassword } from '../../lib/passwords';
import { FEATURE_KEYS } from '../../lib/plans';

export interface TenantFixture {
  tenant: Tenant;
  customers: Customer[];
  roles: Record<string, string>;
}

/** An active tenant with the agency template's roles (owner, admin, member = "Account manager", viewer, accountant). */
export async function createTenant(owner: DataSource, opts: { name?: string; customers?: number } = {}): Promise<TenantFixture> {
  const id = uuidv7();
  const tenant = await owner.getRepository(Tenant).save({
    id,
    slug: `t-${id.slice(-12)}`,
    name: opts.name ?? `Tenant ${id.slice(-6)}`,
    status: 'active',
  });
  return withTenant(owner, id, async (manager) => {
    const roles = await applyTemplateRoles(manager, industryTemplate('agency')!);
    // Every plan feature on (a missing row is "off"); a test that needs a plan's features lets the billing workflow write them.
    for (const key of FEATURE_KEYS) {
      await manager.query(
        "INSERT INTO entitlements (tenant_id, key, enabled, limit_value, source) VALUES (current_setting('app.tenant_id')::uuid, $1, true, NULL, 'fixture')",
        [key],
      );
    }
    const customers: Customer[] = [];
    for (let i = 0; i < (opts.customers ?? 0); i++) {
      customers.push(await manager.getRepository(Customer).save({ id: newId('cust'), name: `Customer ${i + 1}` }));
    }
    return { tenant, customers, roles };
  });
}

export const PASSWORD = 'correct horse battery staple';
let passwordHash: Promise<string> | undefined;

export async function createUser(
  owner: DataSource,
  opts: { email?: string; name?: string; platformAdmin?: boolean; unverified?: boolean } = {},
): Promise<User> {
  passwordHash ??= hashPassword(PASSWORD);
  const id = newId('usr');
  return owner.getRepository(User).save({
    id,
    email: opts.email ?? `${id}@example.test`,
    name: opts.name ?? `User ${id.slice(-5)}`,
    passwordHash: await passwordHash,
    isPlatformAdmin: opts.platformAdmin ?? false,
    emailVerifiedAt: opts.unverified ? null : new Date(),
  });
}

export async function addMember(owner: DataSource, t: TenantFixture, user: User, roleKey: string, customerId?: string): Promise<Membership> {
  return withTenant(owner, t.tenant.id, (m) =>
    m.getRepository(Membership).save({ id: newId('mem'), userId: user.id, roleId: t.roles[roleKey]!, customerId: customerId ?? null }),
  );
}
