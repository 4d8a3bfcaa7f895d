// Invitation rows: one statement for every kind of link the platform mails —
// a member's invitation, the owner's from provisioning, a verification (no
// role). The token is returned once and stored only as its hash.
import { type EntityManager } from 'typeorm';
import { INVITE_TTL_MS, newInviteToken, sha256 } from '../lib/secrets';
import { newId } from './ids';

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
