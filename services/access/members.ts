// Members: users' memberships in the caller's tenant, each with one role and
// optionally restricted to one customer. The last owner can be neither
// removed nor demoted; only an owner can make someone an owner.
//
// Nobody grants beyond themselves: the role given holds only
// permissions the caller holds, a restricted caller's new member is
// restricted to the same customer, and nobody changes their own role.
// Adding someone is always an invitation — e-mailed to the address, accepted
// by its owner — and the answer is the same whether or not the address has an
// account. Memberships are kept with the Membership entity; the joined list
// views are typed SQL (db/memberships.ts).
import { type Logger } from 'pino';
import { tokenCreator } from '../../db/apiTokens';
import { type Membership } from '../../db/entities';
import { isId } from '../../db/ids';
import { deleteInvite, findWithdrawableInvite, listPendingInviteRows } from '../../db/invites';
import { countOwners, deleteMembership, findMemberRow, listMemberRows, updateMembership, type MemberRow } from '../../db/memberships';
import { type ListParams } from '../../db/pagination';
import { tenantName as tenantNameOf } from '../../db/tenants';
import { userName } from '../../db/users';
import { ApiError, notFound } from '../../lib/errors';
import { invitationMail, type PlatformMailer } from '../../lib/platformMail';
import { takeAll } from '../rateLimit';
import { auditBy } from '../audit';
import { type TenantAccess } from '../context';
import { customerContext } from '../tenancy/customers';
import { assertWithinCaller } from './grants';
import { createInvite } from './invites';

export interface InviteMailDeps {
  /** The platform's own mail; without it invitations are recorded but not mailed. */
  mailer?: PlatformMailer;
  /** Public console URL, for the link. */
  consoleUrl?: string;
  log: Logger;
  /** Overrides of INVITE_LIMITS' counts (tests). */
  limits?: { invitesPerTenant?: number; invitesPerInviter?: number };
}

function memberJson(r: MemberRow) {
  return {
    id: r.id,
    user: { id: r.user_id, email: r.email, name: r.name },
    role: { id: r.role_id, name: r.role_name, key: r.role_key },
    customerId: r.customer_id,
    createdAt: r.created_at,
  };
}

async function findMember(a: TenantAccess, id: string): Promise<MemberRow> {
  if (!isId('mem', id)) throw notFound('member');
  const row = await findMemberRow(a.manager, id);
  // A member restricted to one customer sees only members of that customer.
  if (!row || (a.restrictedCustomerId && row.customer_id !== a.restrictedCustomerId)) throw notFound('member');
  return row;
}

/** The customer a grant may carry: a restricted caller grants only their own customer. */
async function grantableCustomer(a: TenantAccess, wanted: string | null | undefined): Promise<string | null> {
  const invalid = () => new ApiError(400, 'invalid_customer_context', 'customerId does not name a customer of this tenant that you can access');
  if (a.restrictedCustomerId) {
    if (wanted && wanted !== a.restrictedCustomerId) throw invalid();
    return a.restrictedCustomerId;
  }
  if (!wanted) return null;
  await customerContext(a, wanted).catch(() => {
    throw invalid();
  });
  return wanted;
}

/** Owners are people: a token never counts as one, whatever its role. */
function callerIsOwner(a: TenantAccess): boolean {
  return a.roleKey === 'owner' && a.userId !== null;
}

const ownersOnly = (message: string) => new ApiError(403, 'forbidden', message, { permission: 'members.manage' });

export async function listMembers(a: TenantAccess, list: ListParams) {
  const p = await listMemberRows(a.manager, list, a.restrictedCustomerId ?? undefined);
  return { data: p.data.map(memberJson), nextCursor: p.nextCursor };
}

export async function getMember(a: TenantAccess, id: string) {
  return memberJson(await findMember(a, id));
}

/**
 * Invitations mail the platform's address to anyone: a free sign-up must not
 * make it a relay. Per tenant per hour and per inviter (a member, with the tokens it minted) per
 * ten minutes, in the shared limiter (every API process counts together).
 * The hits belong to the request's transaction: an invitation that fails
 * takes no slot.
 */
export const INVITE_LIMITS = {
  perTenant: { limit: 20, windowMs: 60 * 60 * 1000 },
  perInviter: { limit: 5, windowMs: 10 * 60 * 1000 },
} as const;

async function takeInviteSlots(a: TenantAccess, overrides: InviteMailDeps['limits']): Promise<void> {
  // A token counts as the member who minted it: minting tokens does not multiply the cap.
  const minter = a.userId ? undefined : await tokenCreator(a.manager, a.tokenId ?? '');
  const inviter = a.userId ? `user:${a.userId}` : minter ? `user:${minter}` : `token:${a.tokenId ?? 'none'}`;
  await takeAll(
    a.manager,
    [
      [`invites:tenant:${a.tenantId}`, overrides?.invitesPerTenant ?? INVITE_LIMITS.perTenant.limit, INVITE_LIMITS.perTenant.windowMs],
      [`invites:inviter:${a.tenantId}:${inviter}`, overrides?.invitesPerInviter ?? INVITE_LIMITS.perInviter.limit, INVITE_LIMITS.perInviter.windowMs],
    ],
    'too many invitations; try again later',
  );
}

/** Records the invitation and mails the link once the request has committed. */
export async function inviteMember(a: TenantAccess, deps: InviteMailDeps, input: { email: string; name: string; roleId: string; customerId?: string | null }) {
  const role = await assertWithinCaller(a, input.roleId);
  if (role.key === 'owner' && !callerIsOwner(a)) throw ownersOnly('only an owner can make someone an owner');
  const customer = await grantableCustomer(a, input.customerId);
  await takeInviteSlots(a, deps.limits);
  const invite = await createInvite(a.manager, {
    tenantId: a.tenantId,
    email: input.email,
    name: input.name,
    roleId: role.id,
    customerId: customer,
    invitedBy: a.userId,
  });
  await auditBy(a, {
    action: 'member_invited',
    outcome: 'success',
    targetType: 'invite',
    targetId: invite.id,
    details: { roleId: role.id, customerId: customer },
  });
  const tenantName = (await tenantNameOf(a.manager, a.tenantId)) ?? '';
  const inviterName = a.userId ? await userName(a.manager, a.userId) : undefined;
  const link = `${deps.consoleUrl ?? ''}/invite/${invite.token}`;
  const mailer = deps.mailer;
  if (mailer) {
    // The tenant's and inviter's names are theirs to choose: only the body
    // carries them, cleaned (lib/platformMail.ts); From is the platform's.
    const mail = invitationMail({ to: input.email, tenantName, inviterName, link, expiresAt: invite.expiresAt });
    // Logged by code only: SMTP errors quote recipients, and logs never hold addresses.
    a.afterCommit(async () => {
      await mailer(mail).catch((err: unknown) =>
        deps.log.warn({ code: (err as { code?: string }).code ?? 'error', inviteId: invite.id }, 'invite mail not sent'),
      );
    });
  }
  return {
    invite: { id: invite.id, email: input.email, name: input.name, roleId: role.id, customerId: customer, expiresAt: invite.expiresAt, status: 'pending' },
  };
}

export async function listPendingInvites(a: TenantAccess, list: ListParams) {
  const p = await listPendingInviteRows(a.manager, list, a.restrictedCustomerId ?? undefined);
  return {
    data: p.data.map((r) => ({
      id: r.id,
      email: r.email,
      roleId: r.role_id,
      customerId: r.customer_id,
      expiresAt: r.expires_at,
      createdAt: r.created_at,
      status: 'pending',
    })),
    nextCursor: p.nextCursor,
  };
}

export async function withdrawInvite(a: TenantAccess, id: string): Promise<void> {
  const row = await findWithdrawableInvite(a.manager, id);
  if (!row || (a.restrictedCustomerId && row.customer_id !== a.restrictedCustomerId)) throw notFound('invite');
  await deleteInvite(a.manager, id);
  await auditBy(a, { action: 'invite_withdrawn', outcome: 'success', targetType: 'invite', targetId: id });
}

export async function changeMember(a: TenantAccess, id: string, input: { roleId?: string; customerId?: string | null }) {
  const member = await findMember(a, id);
  const changes: Partial<Membership> = {};
  const changesRole = input.roleId !== undefined && input.roleId !== member.role_id;
  if (member.id === a.membershipId && (changesRole || (input.customerId !== undefined && input.customerId !== member.customer_id))) {
    throw ownersOnly('nobody changes their own role or customer restriction');
  }
  if (changesRole) {
    const role = await assertWithinCaller(a, input.roleId!);
    const touchesOwner = role.key === 'owner' || member.role_key === 'owner';
    if (touchesOwner && !callerIsOwner(a)) throw ownersOnly('only an owner can change who is an owner');
    if (member.role_key === 'owner' && role.key !== 'owner' && (await countOwners(a.manager)) <= 1)
      throw new ApiError(409, 'last_owner', 'the last owner cannot be demoted');
    changes.roleId = role.id;
  }
  if (input.customerId !== undefined) changes.customerId = await grantableCustomer(a, input.customerId);
  if (Object.keys(changes).length) {
    await updateMembership(a.manager, member.id, changes);
    await auditBy(a, {
      action: changes.roleId ? 'member_role_changed' : 'member_changed',
      outcome: 'success',
      targetType: 'member',
      targetId: member.id,
      details: { from: member.role_id, ...changes },
    });
  }
  return getMember(a, member.id);
}

export async function removeMember(a: TenantAccess, id: string): Promise<void> {
  const member = await findMember(a, id);
  if (member.role_key === 'owner') {
    if (!callerIsOwner(a)) throw ownersOnly('only an owner can remove an owner');
    if ((await countOwners(a.manager)) <= 1) throw new ApiError(409, 'last_owner', 'the last owner cannot be removed');
  }
  await deleteMembership(a.manager, member.id);
  await auditBy(a, { action: 'member_removed', outcome: 'success', targetType: 'member', targetId: member.id });
}
