// Invitation rows: one statement for every kind of link the platform mails —
// a member's invitation, the owner's from provisioning, a verification (no
// role). The token is returned once and stored only as its hash.
import { type EntityManager } from 'typeorm';
import { INVITE_TTL_MS, newInviteToken, sha256 } from '../lib/secrets';
import { newId } from './ids';
import { keysetPage, type ListParams, type Page } from './pagination';

export interface NewInvite {
  tenantId: string;
  userId: string;
  /** The role the invitation grants; none for a verification link. */
  roleId?: string | null;
  customerId?: string | null;
  invitedBy?: string | null;
}

/** Records an invitation in the tenant's transaction; the link's token is in the answer only. */
export async function insertInvite(m: EntityManager, invite: NewInvite): Promise<{ id: string; token: string; expiresAt: Date }> {
  const token = newInviteToken(invite.tenantId);
  const id = newId('inv');
  const expiresAt = new Date(Date.now() + INVITE_TTL_MS);
  await m.query(
    'INSERT INTO invites (tenant_id, id, user_id, token_hash, expires_at, role_id, customer_id, invited_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
    [invite.tenantId, id, invite.userId, sha256(token), expiresAt, invite.roleId ?? null, invite.customerId ?? null, invite.invitedBy ?? null],
  );
  return { id, token, expiresAt };
}

/** Deletes the user's pending invitations to join (a new one replaces them); verification links stay. */
export async function deletePendingMemberInvites(m: EntityManager, userId: string): Promise<void> {
  await m.query('DELETE FROM invites WHERE user_id = $1 AND accepted_at IS NULL AND role_id IS NOT NULL', [userId]);
}

/** Deletes the user's pending verification links (one live link per account and tenant: the newest). */
export async function deletePendingVerifications(m: EntityManager, userId: string): Promise<void> {
  await m.query('DELETE FROM invites WHERE user_id = $1 AND role_id IS NULL AND accepted_at IS NULL', [userId]);
}

/** Whether the user has a link (of any kind) not yet accepted and not expired. */
export async function hasLiveInvite(m: EntityManager, userId: string): Promise<boolean> {
  const [pending] = (await m.query('SELECT 1 FROM invites WHERE user_id = $1 AND accepted_at IS NULL AND expires_at > now()', [userId])) as unknown[];
  return Boolean(pending);
}

/** Deletes every invitation of the tenant (undoing provisioning's owner). */
export async function deleteAllInvites(m: EntityManager): Promise<void> {
  await m.query('DELETE FROM invites');
}

/** A live invitation with what accepting it needs to know about its account. */
export interface PendingInvite {
  id: string;
  user_id: string;
  role_id: string | null;
  customer_id: string | null;
  has_password: boolean;
  verified: boolean;
  is_platform_admin: boolean;
  password_hash: string | null;
}

const PENDING = `SELECT i.id, i.user_id, i.role_id, i.customer_id, u.password_hash, u.password_hash IS NOT NULL AS has_password,
       u.email_verified_at IS NOT NULL AS verified, u.is_platform_admin
  FROM invites i JOIN users u ON u.id = i.user_id WHERE i.accepted_at IS NULL AND i.expires_at > now()`;

/** The live invitation whose link carries this token. */
export async function findPendingInviteByToken(m: EntityManager, token: string): Promise<PendingInvite | undefined> {
  const [invite] = (await m.query(`${PENDING} AND i.token_hash = $1`, [sha256(token)])) as PendingInvite[];
  return invite;
}

/** The user's live invitation with this id. */
export async function findPendingInviteOfUser(m: EntityManager, inviteId: string, userId: string): Promise<PendingInvite | undefined> {
  const [invite] = (await m.query(`${PENDING} AND i.id = $1 AND i.user_id = $2`, [inviteId, userId])) as PendingInvite[];
  return invite;
}

export async function markInviteAccepted(m: EntityManager, id: string): Promise<void> {
  await m.query('UPDATE invites SET accepted_at = now() WHERE id = $1', [id]);
}

/** A verified user's live invitations to join active tenants, across tenants; run under withUser. */
export async function pendingInvitesOfUser(
  m: EntityManager,
  userId: string,
): Promise<{ id: string; tenant_id: string; tenant_name: string; expires_at: Date }[]> {
  return (await m.query(
    `SELECT i.id, i.tenant_id, t.name AS tenant_name, i.expires_at FROM invites i JOIN tenants t ON t.id = i.tenant_id JOIN users u ON u.id = i.user_id
        WHERE i.user_id = $1 AND NOT u.is_platform_admin AND u.email_verified_at IS NOT NULL AND i.accepted_at IS NULL AND i.expires_at > now() AND i.role_id IS NOT NULL AND t.status = 'active' ORDER BY i.id`,
    [userId],
  )) as { id: string; tenant_id: string; tenant_name: string; expires_at: Date }[];
}

export interface PendingInviteRow {
  id: string;
  email: string;
  role_id: string;
  customer_id: string | null;
  expires_at: Date;
  created_at: Date;
}

/** One page of the tenant's live invitations to join, searched by address; only one customer's when `customerId` is given. */
export function listPendingInviteRows(m: EntityManager, list: ListParams, customerId: string | undefined): Promise<Page<PendingInviteRow>> {
  return keysetPage<PendingInviteRow>(m, list, {
    select: 'SELECT i.id, u.email, i.role_id, i.customer_id, i.expires_at, i.created_at FROM invites i JOIN users u ON u.id = i.user_id',
    key: 'i.id',
    where: [
      ['i.accepted_at IS NULL AND i.role_id IS NOT NULL AND i.expires_at > now()', null],
      ['i.customer_id = ?', customerId],
    ],
    search: ['u.email'],
    idOf: (r) => r.id,
  });
}

/** A pending invitation to join, as withdrawing it needs. */
export async function findWithdrawableInvite(m: EntityManager, id: string): Promise<{ id: string; customer_id: string | null } | undefined> {
  const [row] = (await m.query('SELECT id, customer_id FROM invites WHERE id = $1 AND accepted_at IS NULL AND role_id IS NOT NULL', [id])) as {
    id: string;
    customer_id: string | null;
  }[];
  return row;
}

export async function deleteInvite(m: EntityManager, id: string): Promise<void> {
  await m.query('DELETE FROM invites WHERE id = $1', [id]);
}
