// Memberships: a user's place in a tenant — one role, and optionally a
// restriction to one customer. Read in the tenant's transaction (RLS), or
// across tenants in the user's own (withUser), where a user sees only their
// own memberships.
import { type EntityManager } from 'typeorm';
import { Membership } from './entities';
import { newId } from './ids';
import { keysetPage, type ListParams, type Page } from './pagination';
import { ROLE_PERMISSIONS_JOIN, type RolePermissionRow } from './tenantRoles';

/** Whether the user is a member of the tenant of `m`'s transaction (or, under withUser, of any). */
export async function hasMembership(m: EntityManager, userId: string): Promise<boolean> {
  const [member] = (await m.query('SELECT 1 FROM memberships WHERE user_id = $1', [userId])) as unknown[];
  return Boolean(member);
}

/** Whether the user is a member of any tenant; run under withUser, which shows the user's memberships across tenants. */
export async function belongsToAnyTenant(m: EntityManager, userId: string): Promise<boolean> {
  const rows = await m.query('SELECT 1 FROM memberships WHERE user_id = $1 LIMIT 1', [userId]);
  return (rows as unknown[]).length > 0;
}

/** Makes the user a member (an accepted invitation); an existing membership is kept as it is. */
export async function insertMembership(
  m: EntityManager,
  member: { tenantId: string; userId: string; roleId: string; customerId: string | null },
): Promise<void> {
  await m.query(
    'INSERT INTO memberships (tenant_id, id, user_id, role_id, customer_id) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, user_id) DO NOTHING',
    [member.tenantId, newId('mem'), member.userId, member.roleId, member.customerId],
  );
}

/** Makes provisioning's owner a member with the owner role; an existing membership is kept as it is. */
export async function insertOwnerMembership(m: EntityManager, member: { tenantId: string; userId: string; roleId: string }): Promise<void> {
  await m.query('INSERT INTO memberships (tenant_id, id, user_id, role_id) VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, user_id) DO NOTHING', [
    member.tenantId,
    newId('mem'),
    member.userId,
    member.roleId,
  ]);
}

/** Removes every member holding the owner role (undoing provisioning's owner). */
export async function deleteOwnerMemberships(m: EntityManager): Promise<void> {
  await m.query("DELETE FROM memberships WHERE role_id IN (SELECT id FROM roles WHERE key = 'owner')");
}

/** The tenants the user belongs to; run under withUser. */
export async function tenantIdsOfUser(m: EntityManager, userId: string): Promise<{ tenant_id: string }[]> {
  return (await m.query('SELECT tenant_id FROM memberships WHERE user_id = $1', [userId])) as { tenant_id: string }[];
}

/** The user's active tenants, by name; run under withUser. */
export async function activeTenantsOfUser(m: EntityManager, userId: string): Promise<{ id: string; name: string; slug: string }[]> {
  return m.query(
    `SELECT t.id, t.name, t.slug FROM memberships ms JOIN tenants t ON t.id = ms.tenant_id
        WHERE ms.user_id = $1 AND t.status = 'active' ORDER BY t.name, t.id`,
    [userId],
  );
}

/** The active tenant the user joined first; run under withUser. */
export async function firstActiveTenantOfUser(m: EntityManager, userId: string): Promise<{ id: string; name: string } | undefined> {
  const [home] = (await m.query(
    `SELECT t.id, t.name FROM memberships ms JOIN tenants t ON t.id = ms.tenant_id
        WHERE ms.user_id = $1 AND t.status = 'active' ORDER BY ms.created_at, t.id LIMIT 1`,
    [userId],
  )) as { id: string; name: string }[];
  return home;
}

/** Whether the user belongs to this tenant and it is active; run under withUser. */
export async function isActiveMemberOf(m: EntityManager, userId: string, tenantId: string): Promise<boolean> {
  const member = (await m.query(
    "SELECT 1 FROM memberships ms JOIN tenants t ON t.id = ms.tenant_id WHERE ms.user_id = $1 AND ms.tenant_id = $2 AND t.status = 'active'",
    [userId, tenantId],
  )) as unknown[];
  return member.length > 0;
}

export type MembershipAccessRow = RolePermissionRow & { membership_id: string; role_id: string; customer_id: string | null };

/** The user's membership in the tenant, its role and the role's permissions, in one round trip (no rows: not a member). */
export async function membershipAccessRows(m: EntityManager, tenantId: string, userId: string): Promise<MembershipAccessRow[]> {
  return (await m.query(
    `SELECT m.id AS membership_id, m.role_id, m.customer_id, r.key, r.name, rp.permission
         FROM memberships m
         LEFT JOIN roles r ON r.tenant_id = m.tenant_id AND r.id = m.role_id
         ${ROLE_PERMISSIONS_JOIN}
        WHERE m.tenant_id = $1 AND m.user_id = $2`,
    [tenantId, userId],
  )) as MembershipAccessRow[];
}

/** A member as the members views show it: the user and the role joined. */
export interface MemberRow {
  id: string;
  user_id: string;
  email: string;
  name: string;
  role_id: string;
  role_name: string;
  role_key: string | null;
  customer_id: string | null;
  created_at: Date;
}

const MEMBER_SELECT = `
  SELECT m.id, m.user_id, u.email, u.name, m.role_id, r.name AS role_name, r.key AS role_key, m.customer_id, m.created_at
    FROM memberships m JOIN users u ON u.id = m.user_id JOIN roles r ON r.tenant_id = m.tenant_id AND r.id = m.role_id`;

export async function findMemberRow(m: EntityManager, id: string): Promise<MemberRow | undefined> {
  const rows = (await m.query(`${MEMBER_SELECT} WHERE m.id = $1`, [id])) as MemberRow[];
  return rows[0];
}

/** One page of members, searched by name and address; only one customer's when `customerId` is given. */
export function listMemberRows(m: EntityManager, list: ListParams, customerId: string | undefined): Promise<Page<MemberRow>> {
  return keysetPage<MemberRow>(m, list, {
    select: MEMBER_SELECT,
    key: 'm.id',
    where: [['m.customer_id = ?', customerId]],
    search: ['u.name', 'u.email'],
    idOf: (r) => r.id,
  });
}

/** How many members hold the owner role. */
export async function countOwners(m: EntityManager): Promise<number> {
  const [{ n }] = (await m.query(
    "SELECT count(*)::int AS n FROM memberships m JOIN roles r ON r.tenant_id = m.tenant_id AND r.id = m.role_id WHERE r.key = 'owner'",
  )) as { n: number }[];
  return n;
}

/** How many members and live tokens hold the role. */
export async function countRoleHolders(m: EntityManager, roleId: string): Promise<number> {
  const [{ n }] = (await m.query(
    'SELECT (SELECT count(*) FROM memberships WHERE role_id = $1) + (SELECT count(*) FROM api_tokens WHERE role_id = $1 AND revoked_at IS NULL) AS n',
    [roleId],
  )) as { n: string }[];
  return Number(n);
}

export async function updateMembership(m: EntityManager, id: string, changes: Partial<Pick<Membership, 'roleId' | 'customerId'>>): Promise<void> {
  await m.getRepository(Membership).update({ id }, changes);
}

export async function deleteMembership(m: EntityManager, id: string): Promise<void> {
  await m.getRepository(Membership).delete({ id });
}

/** Seats taken: members plus invitations still open (each will take a seat when accepted). */
export async function countSeatsTaken(m: EntityManager): Promise<number> {
  const [c] = (await m.query(
    `SELECT (SELECT count(*) FROM memberships) + (SELECT count(*) FROM invites WHERE accepted_at IS NULL AND expires_at > now() AND role_id IS NOT NULL)::int AS n`,
  )) as { n: number }[];
  return Number(c!.n);
}

/**
 * Who a notification goes to: the members holding the owner role, or those
 * of `userIds` who are members (anyone else is left out), with their address.
 */
export async function notificationRecipients(m: EntityManager, to: 'owners' | string[]): Promise<{ user_id: string; email: string }[]> {
  return (await m.query(
    `SELECT m.user_id, u.email FROM memberships m JOIN users u ON u.id = m.user_id JOIN roles r ON r.tenant_id = m.tenant_id AND r.id = m.role_id
      WHERE CASE WHEN $1::text[] IS NULL THEN r.key = 'owner' ELSE m.user_id = ANY($1::text[]) END
      ORDER BY m.user_id`,
    [to === 'owners' ? null : to],
  )) as { user_id: string; email: string }[];
}
