// Invitations: the only way an account joins a tenant after
// provisioning. An invite names the role and customer restriction the
// invitee will get; it is accepted by the account's owner — signed in, or
// through the e-mailed link by choosing a password (new account) or entering
// theirs (existing account). The platform admin is never a member.
//
// Following a link proves the address. An account whose address was never
// proven (a public sign-up's, or one created by an invitation) is unverified:
// it cannot sign in, and whoever follows a link mailed to its address sets its
// password — the unverified password and every session of the account end
// there (docs/security.md, "Identity").
import { assertWithinLimit } from '../billing/limits';
import { type DataSource, type EntityManager } from 'typeorm';
import { revokeTokensCreatedBy } from '../../db/apiTokens';
import { newId } from '../../db/ids';
import {
  deletePendingMemberInvites,
  deletePendingVerifications,
  findPendingInviteByToken,
  findPendingInviteOfUser,
  insertInvite,
  markInviteAccepted,
  pendingInvitesOfUser,
  type PendingInvite,
} from '../../db/invites';
import { firstActiveTenantOfUser, hasMembership, insertMembership, tenantIdsOfUser } from '../../db/memberships';
import { revokeSessionsOfUser } from '../../db/sessions';
import { withTenant, withUser } from '../../db/tenantContext';
import { findUnverifiedUserByEmail, findUserIdByEmail, insertUserIfAbsent, setPasswordAndVerify } from '../../db/users';
import { audit } from '../audit';
import { hashPassword, verifyPassword } from '../../lib/passwords';
import { parseInviteToken } from '../../lib/secrets';
import { ApiError } from '../../lib/errors';
import { verificationMail, type PlatformMailer } from '../../lib/platformMail';
import { type Logger } from 'pino';

/**
 * Records an invitation in the current tenant transaction. A new address gets
 * an account without a password (set when the link is accepted); an existing
 * account is never attached here.
 */
export async function createInvite(
  m: EntityManager,
  input: { tenantId: string; email: string; name: string; roleId: string; customerId: string | null; invitedBy: string | null },
): Promise<{ id: string; token: string; expiresAt: Date }> {
  let user = await findUserIdByEmail(m, input.email);
  if (!user) {
    await insertUserIfAbsent(m, { id: newId('usr'), email: input.email, name: input.name });
    user = await findUserIdByEmail(m, input.email);
  }
  const userId = user!.id;
  if (await hasMembership(m, userId)) throw new ApiError(409, 'already_member', 'this address is already a member of this tenant');
  // A new invitation replaces a pending one for the same address.
  await deletePendingMemberInvites(m, userId);
  await assertWithinLimit(m, 'seats');
  return insertInvite(m, { tenantId: input.tenantId, userId, roleId: input.roleId, customerId: input.customerId, invitedBy: input.invitedBy });
}

export const inviteNotFound = () => new ApiError(404, 'not_found', 'invite not found or expired');

/** Turns an invite into a membership, in the invite's tenant transaction. */
async function join(m: EntityManager, tenantId: string, invite: PendingInvite, requestId: string): Promise<void> {
  if (invite.role_id) {
    await insertMembership(m, { tenantId, userId: invite.user_id, roleId: invite.role_id, customerId: invite.customer_id });
  }
  await markInviteAccepted(m, invite.id);
  await audit(m, { action: 'invite_accepted', outcome: 'success', actorUserId: invite.user_id, targetType: 'invite', targetId: invite.id, requestId });
}

/** Through the e-mailed link: a new account chooses its password, an existing one proves it. */
export async function acceptInviteByToken(ds: DataSource, token: string, password: string, requestId: string): Promise<void> {
  const tenantId = parseInviteToken(token)?.tenantId;
  if (!tenantId) throw inviteNotFound();
  let takenOver: string | undefined;
  await withTenant(ds, tenantId, async (m) => {
    const invite = await findPendingInviteByToken(m, token);
    if (!invite || invite.is_platform_admin) throw inviteNotFound();
    if (invite.has_password && invite.verified) {
      if (!(await verifyPassword(invite.password_hash ?? undefined, password))) throw new ApiError(401, 'invalid_credentials', 'invalid e-mail or password');
    } else {
      // The link reached the address: its follower owns it and chooses the
      // password. Any password set before the address was proven, and every
      // session opened with it, stop working.
      await setPasswordAndVerify(m, invite.user_id, await hashPassword(password));
      const revoked = await revokeSessionsOfUser(m, invite.user_id);
      await audit(m, {
        action: 'address_verified',
        outcome: 'success',
        actorUserId: invite.user_id,
        targetType: 'user',
        targetId: invite.user_id,
        requestId,
        details: { unverifiedPasswordReplaced: invite.has_password, sessionsRevoked: revoked },
      });
      if (invite.has_password) takenOver = invite.user_id;
    }
    await join(m, tenantId, invite, requestId);
  });
  if (takenOver) await revokeTokensOf(ds, takenOver, requestId);
}

/**
 * Revokes every API token a user created, in each tenant they belong to: the
 * tokens someone minted with a password the address's owner never chose end
 * with it. Each tenant's in its own transaction (tokens are under RLS).
 */
async function revokeTokensOf(ds: DataSource, userId: string, requestId: string): Promise<void> {
  const tenants = await withUser(ds, userId, (m) => tenantIdsOfUser(m, userId));
  for (const { tenant_id } of tenants) {
    await withTenant(ds, tenant_id, async (m) => {
      const n = await revokeTokensCreatedBy(m, userId);
      if (n > 0)
        await audit(m, {
          action: 'token_revoked',
          outcome: 'success',
          actorUserId: userId,
          targetType: 'user',
          targetId: userId,
          requestId,
          details: { reason: 'address_verified', tokensRevoked: n },
        });
    });
  }
}

/** A signed-in user's pending invites, across tenants. */
export async function invitesOfUser(ds: DataSource, userId: string) {
  const rows = await withUser(ds, userId, (m) => pendingInvitesOfUser(m, userId));
  return rows.map((r) => ({ id: r.id, tenant: { id: r.tenant_id, name: r.tenant_name }, expiresAt: r.expires_at }));
}

/** Accepted by the signed-in invitee. */
export async function acceptInviteAsUser(ds: DataSource, userId: string, inviteId: string, requestId: string): Promise<{ tenantId: string }> {
  const mine = await invitesOfUser(ds, userId);
  const found = mine.find((i) => i.id === inviteId);
  if (!found) throw inviteNotFound();
  await withTenant(ds, found.tenant.id, async (m) => {
    const invite = await findPendingInviteOfUser(m, inviteId, userId);
    if (!invite || invite.is_platform_admin || !invite.verified) throw inviteNotFound();
    await join(m, found.tenant.id, invite, requestId);
  });
  return { tenantId: found.tenant.id };
}

/**
 * A fresh verification link for an unverified account that belongs to a
 * tenant (a public sign-up's owner, or one marked unverified when
 * verification began), mailed to the address. Anything else — no account, a
 * verified one, the platform admin — does nothing, and the caller answers the
 * same either way: no answer reveals whether an address has an account.
 */
export async function requestVerification(
  ds: DataSource,
  deps: { mailer?: PlatformMailer; consoleUrl?: string; log: Logger },
  email: string,
  requestId: string,
): Promise<void> {
  const user = await findUnverifiedUserByEmail(ds, email);
  if (!user || !deps.mailer) return;
  const home = await withUser(ds, user.id, (m) => firstActiveTenantOfUser(m, user.id));
  if (!home) return;
  const { token, expiresAt } = await withTenant(ds, home.id, async (m) => {
    // One live verification link per account and tenant: the newest.
    await deletePendingVerifications(m, user.id);
    const invite = await insertInvite(m, { tenantId: home.id, userId: user.id });
    await audit(m, { action: 'verification_requested', outcome: 'success', targetType: 'invite', targetId: invite.id, requestId });
    return invite;
  });
  await deps.mailer(verificationMail({ to: email, tenantName: home.name, link: `${deps.consoleUrl ?? ''}/invite/${token}`, expiresAt }));
}
