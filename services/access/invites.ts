// Invitations (spec §3.11): the only way an account joins a tenant after
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
import { newId } from '../../db/ids';
import { insertInvite } from '../../db/invites';
import { withTenant, withUser } from '../../db/tenantContext';
import { audit } from '../audit';
import { hashPassword, verifyPassword } from '../../lib/passwords';
import { parseInviteToken, sha256 } from '../../lib/secrets';
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
  let [user] = (await m.query('SELECT id FROM users WHERE email = $1', [input.email])) as { id: string }[];
  if (!user) {
    const id = newId('usr');
    await m.query('INSERT INTO users (id, email, name) VALUES ($1, $2, $3) ON CONFLICT (email) DO NOTHING', [id, input.email, input.name]);
    [user] = (await m.query('SELECT id FROM users WHERE email = $1', [input.email])) as { id: string }[];
  }
  const userId = user!.id;
  const [member] = (await m.query('SELECT 1 FROM memberships WHERE user_id = $1', [userId])) as unknown[];
  if (member) throw new ApiError(409, 'already_member', 'this address is already a member of this tenant');
  // A new invitation replaces a pending one for the same address.
  await m.query('DELETE FROM invites WHERE user_id = $1 AND accepted_at IS NULL AND role_id IS NOT NULL', [userId]);
  await assertWithinLimit(m, 'seats');
  return insertInvite(m, { tenantId: input.tenantId, userId, roleId: input.roleId, customerId: input.customerId, invitedBy: input.invitedBy });
}

interface PendingInvite {
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

export const inviteNotFound = () => new ApiError(404, 'not_found', 'invite not found or expired');

/** Turns an invite into a membership, in the invite's tenant transaction. */
async function join(m: EntityManager, tenantId: string, invite: PendingInvite, requestId: string): Promise<void> {
  if (invite.role_id) {
    await m.query(
      'INSERT INTO memberships (tenant_id, id, user_id, role_id, customer_id) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, user_id) DO NOTHING',
      [tenantId, newId('mem'), invite.user_id, invite.role_id, invite.customer_id],
    );
  }
  await m.query('UPDATE invites SET accepted_at = now() WHERE id = $1', [invite.id]);
  await audit(m, { action: 'invite_accepted', outcome: 'success', actorUserId: invite.user_id, targetType: 'invite', targetId: invite.id, requestId });
}

/** Through the e-mailed link: a new account chooses its password, an existing one proves it. */
export async function acceptInviteByToken(ds: DataSource, token: string, password: string, requestId: string): Promise<void> {
  const tenantId = parseInviteToken(token)?.tenantId;
  if (!tenantId) throw inviteNotFound();
  let takenOver: string | undefined;
  await withTenant(ds, tenantId, async (m) => {
    const [invite] = (await m.query(`${PENDING} AND i.token_hash = $1`, [sha256(token)])) as PendingInvite[];
    if (!invite || invite.is_platform_admin) throw inviteNotFound();
    if (invite.has_password && invite.verified) {
      if (!(await verifyPassword(invite.password_hash ?? undefined, password))) throw new ApiError(401, 'invalid_credentials', 'invalid e-mail or password');
    } else {
      // The link reached the address: its follower owns it and chooses the
      // password. Any password set before the address was proven, and every
      // session opened with it, stop working.
      await m.query('UPDATE users SET password_hash = $2, email_verified_at = now(), updated_at = now() WHERE id = $1', [
        invite.user_id,
        await hashPassword(password),
      ]);
      const revoked = (await m.query('UPDATE sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL', [invite.user_id])) as [
        unknown,
        number,
      ];
      await audit(m, {
        action: 'address_verified',
        outcome: 'success',
        actorUserId: invite.user_id,
        targetType: 'user',
        targetId: invite.user_id,
        requestId,
        details: { unverifiedPasswordReplaced: invite.has_password, sessionsRevoked: revoked[1] ?? 0 },
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
  const tenants = await withUser(
    ds,
    userId,
    async (m) => (await m.query('SELECT tenant_id FROM memberships WHERE user_id = $1', [userId])) as { tenant_id: string }[],
  );
  for (const { tenant_id } of tenants) {
    await withTenant(ds, tenant_id, async (m) => {
      const [, n] = (await m.query('UPDATE api_tokens SET revoked_at = now() WHERE created_by = $1 AND revoked_at IS NULL', [userId])) as [unknown, number];
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
  const rows = await withUser(ds, userId, async (m) => {
    return (await m.query(
      `SELECT i.id, i.tenant_id, t.name AS tenant_name, i.expires_at FROM invites i JOIN tenants t ON t.id = i.tenant_id JOIN users u ON u.id = i.user_id
        WHERE i.user_id = $1 AND NOT u.is_platform_admin AND u.email_verified_at IS NOT NULL AND i.accepted_at IS NULL AND i.expires_at > now() AND i.role_id IS NOT NULL AND t.status = 'active' ORDER BY i.id`,
      [userId],
    )) as { id: string; tenant_id: string; tenant_name: string; expires_at: Date }[];
  });
  return rows.map((r) => ({ id: r.id, tenant: { id: r.tenant_id, name: r.tenant_name }, expiresAt: r.expires_at }));
}

/** Accepted by the signed-in invitee. */
export async function acceptInviteAsUser(ds: DataSource, userId: string, inviteId: string, requestId: string): Promise<{ tenantId: string }> {
  const mine = await invitesOfUser(ds, userId);
  const found = mine.find((i) => i.id === inviteId);
  if (!found) throw inviteNotFound();
  await withTenant(ds, found.tenant.id, async (m) => {
    const [invite] = (await m.query(`${PENDING} AND i.id = $1 AND i.user_id = $2`, [inviteId, userId])) as PendingInvite[];
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
  const [user] = (await ds.query('SELECT id FROM users WHERE email = $1 AND email_verified_at IS NULL AND NOT is_platform_admin', [email])) as {
    id: string;
  }[];
  if (!user || !deps.mailer) return;
  const [home] = (await withUser(ds, user.id, (m) =>
    m.query(
      `SELECT t.id, t.name FROM memberships ms JOIN tenants t ON t.id = ms.tenant_id
        WHERE ms.user_id = $1 AND t.status = 'active' ORDER BY ms.created_at, t.id LIMIT 1`,
      [user.id],
    ),
  )) as { id: string; name: string }[];
  if (!home) return;
  const { token, expiresAt } = await withTenant(ds, home.id, async (m) => {
    // One live verification link per account and tenant: the newest.
    await m.query('DELETE FROM invites WHERE user_id = $1 AND role_id IS NULL AND accepted_at IS NULL', [user.id]);
    const invite = await insertInvite(m, { tenantId: home.id, userId: user.id });
    await audit(m, { action: 'verification_requested', outcome: 'success', targetType: 'invite', targetId: invite.id, requestId });
    return invite;
  });
  await deps.mailer(verificationMail({ to: email, tenantName: home.name, link: `${deps.consoleUrl ?? ''}/invite/${token}`, expiresAt }));
}
