// Members: users' memberships in the caller's tenant, each with one role and
// optionally restricted to one customer. The last owner can be neither
// removed nor demoted; only an owner can make someone an owner.
//
// Nobody grants beyond themselves (spec §3.11): the role given holds only
// permissions the caller holds, a restricted caller's new member is
// restricted to the same customer, and nobody changes their own role.
// Adding someone is always an invitation — e-mailed to the address, accepted
// by its owner (signed in, or by choosing a password for a new account) — and
// the answer is the same whether or not the address has an account.
import Router from '@koa/router';
import { z } from 'zod';
import { Membership } from '../../db/entities';
import { isId } from '../../db/ids';
import { access, assertWithinCaller, requirePermission, tenantScope } from '../access';
import { type AppDeps } from '../app';
import { audit } from '../audit';
import { createInvite } from '../invites';
import { ApiError, notFound } from '../errors';
import { idempotency } from '../middleware/idempotency';
import { decodeCursor, likePattern, listQuery, page } from '../pagination';
import { route } from '../routing';
import * as R from '../schemas/responses';
import { type AppState, type TenantAccess } from '../state';
import { findCustomer } from './customers';

const roleId = z.string().regex(/^role_[0-9a-z]{26}$/, 'must be a role id (role_…)');
const customerId = z.string().regex(/^cust_[0-9a-z]{26}$/, 'must be a customer id (cust_…)');
const createBody = z
  .object({
    email: z.string().trim().toLowerCase().email().max(320),
    name: z.string().trim().min(1).max(200),
    roleId,
    customerId: customerId.nullable().optional(),
  })
  .strict();
const patchBody = z
  .object({ roleId: roleId.optional(), customerId: customerId.nullable().optional() })
  .strict()
  .refine((b) => b.roleId !== undefined || b.customerId !== undefined, { message: 'give roleId or customerId' });

interface MemberRow {
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

function toMemberJson(r: MemberRow) {
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
  const rows = (await a.manager.query(`${MEMBER_SELECT} WHERE m.id = $1`, [id])) as MemberRow[];
  const row = rows[0];
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
  await findCustomer(a, wanted).catch(() => {
    throw invalid();
  });
  return wanted;
}

/** Owners are people: a token never counts as one, whatever its role. */
function callerIsOwner(a: TenantAccess): boolean {
  return a.roleKey === 'owner' && a.userId !== null;
}

async function ownerCount(a: TenantAccess): Promise<number> {
  const [{ n }] = (await a.manager.query("SELECT count(*)::int AS n FROM memberships m JOIN roles r ON r.tenant_id = m.tenant_id AND r.id = m.role_id WHERE r.key = 'owner'")) as { n: number }[];
  return n;
}

export function memberRoutes(deps: AppDeps) {
  const router = new Router<AppState>();
  const scope = tenantScope(deps.dataSource);
  const tag = 'members';
  const actor = (a: TenantAccess, requestId: string) => ({ actorUserId: a.userId, actorTokenId: a.tokenId, requestId });

  route(router, { method: 'get', path: '/api/members', response: R.list(R.member), summary: 'List members', tag, auth: 'tenant', permission: 'members.read', query: listQuery }, scope, requirePermission('members.read'), async (ctx, { query }) => {
    const a = access(ctx);
    const params: unknown[] = [];
    const where: string[] = [];
    const after = decodeCursor(query.cursor);
    if (after) where.push(`m.id > $${params.push(after)}`);
    if (query.q) where.push(`(u.name ILIKE $${params.push(likePattern(query.q))} ESCAPE '\\' OR u.email ILIKE $${params.length} ESCAPE '\\')`);
    if (a.restrictedCustomerId) where.push(`m.customer_id = $${params.push(a.restrictedCustomerId)}`);
    const rows = (await a.manager.query(`${MEMBER_SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY m.id LIMIT ${query.limit + 1}`, params)) as MemberRow[];
    const p = page(rows, query.limit, (r) => r.id);
    ctx.body = { data: p.data.map(toMemberJson), nextCursor: p.nextCursor };
  });

  route(router, { method: 'post', path: '/api/members', response: R.invited, summary: 'Invite someone (the invitation is e-mailed to the address; the answer is the same whether or not it has an account)', tag, auth: 'tenant', permission: 'members.manage', body: createBody, status: 202 }, scope, requirePermission('members.manage'), idempotency(), async (ctx, { body }) => {
    const a = access(ctx);
    const role = await assertWithinCaller(a, body.roleId);
    if (role.key === 'owner' && !callerIsOwner(a)) throw new ApiError(403, 'forbidden', 'only an owner can make someone an owner', { permission: 'members.manage' });
    const customer = await grantableCustomer(a, body.customerId);
    const invite = await createInvite(a.manager, { tenantId: a.tenantId, email: body.email, name: body.name, roleId: role.id, customerId: customer, invitedBy: a.userId });
    await audit(a.manager, { action: 'member_invited', outcome: 'success', targetType: 'invite', targetId: invite.id, details: { roleId: role.id, customerId: customer }, ...actor(a, ctx.state.requestId) });
    const tenantName = ((await a.manager.query('SELECT name FROM tenants WHERE id = $1', [a.tenantId])) as { name: string }[])[0]?.name ?? 'a Tenantflow workspace';
    const link = `${deps.consoleUrl ?? ''}/invite/${invite.token}`;
    const mailer = deps.mailer;
    if (mailer) {
      // Logged by code only: SMTP errors quote recipients, and logs never hold addresses.
      ctx.state.afterCommit?.push(async () => {
        await mailer({
          to: body.email,
          subject: `You are invited to ${tenantName} on Tenantflow`,
          text: `You have been invited to join ${tenantName} on Tenantflow.\n\nAccept the invitation: ${link}\n\nIt expires on ${invite.expiresAt.toISOString()}. If you did not expect it, ignore this message.`,
        }).catch((err: unknown) => ctx.state.log.warn({ code: (err as { code?: string }).code ?? 'error', inviteId: invite.id }, 'invite mail not sent'));
      });
    }
    ctx.status = 202;
    ctx.body = { invite: { id: invite.id, email: body.email, name: body.name, roleId: role.id, customerId: customer, expiresAt: invite.expiresAt, status: 'pending' } };
  });

  route(router, { method: 'get', path: '/api/members/invites', response: R.list(R.pendingInvite), summary: 'Pending invitations', tag, auth: 'tenant', permission: 'members.read', query: listQuery }, scope, requirePermission('members.read'), async (ctx, { query }) => {
    const a = access(ctx);
    const params: unknown[] = [];
    const where = ['i.accepted_at IS NULL', 'i.role_id IS NOT NULL', 'i.expires_at > now()'];
    const after = decodeCursor(query.cursor);
    if (after) where.push(`i.id > $${params.push(after)}`);
    if (query.q) where.push(`u.email ILIKE $${params.push(likePattern(query.q))} ESCAPE '\\'`);
    if (a.restrictedCustomerId) where.push(`i.customer_id = $${params.push(a.restrictedCustomerId)}`);
    const rows = (await a.manager.query(
      `SELECT i.id, u.email, i.role_id, i.customer_id, i.expires_at, i.created_at FROM invites i JOIN users u ON u.id = i.user_id
        WHERE ${where.join(' AND ')} ORDER BY i.id LIMIT ${query.limit + 1}`,
      params,
    )) as { id: string; email: string; role_id: string; customer_id: string | null; expires_at: Date; created_at: Date }[];
    const p = page(rows, query.limit, (r) => r.id);
    ctx.body = {
      data: p.data.map((r) => ({ id: r.id, email: r.email, roleId: r.role_id, customerId: r.customer_id, expiresAt: r.expires_at, createdAt: r.created_at, status: 'pending' })),
      nextCursor: p.nextCursor,
    };
  });

  route(router, { method: 'delete', path: '/api/members/invites/:id', summary: 'Withdraw a pending invitation', tag, auth: 'tenant', permission: 'members.manage', status: 204 }, scope, requirePermission('members.manage'), idempotency(), async (ctx) => {
    const a = access(ctx);
    const id = ctx.params.id ?? '';
    const rows = isId('inv', id)
      ? ((await a.manager.query('SELECT id, customer_id FROM invites WHERE id = $1 AND accepted_at IS NULL AND role_id IS NOT NULL', [id])) as { id: string; customer_id: string | null }[])
      : [];
    const row = rows[0];
    if (!row || (a.restrictedCustomerId && row.customer_id !== a.restrictedCustomerId)) throw notFound('invite');
    await a.manager.query('DELETE FROM invites WHERE id = $1', [id]);
    await audit(a.manager, { action: 'invite_withdrawn', outcome: 'success', targetType: 'invite', targetId: id, ...actor(a, ctx.state.requestId) });
    ctx.status = 204;
  });

  route(router, { method: 'get', path: '/api/members/:id', response: R.member, summary: 'Get a member', tag, auth: 'tenant', permission: 'members.read' }, scope, requirePermission('members.read'), async (ctx) => {
    ctx.body = toMemberJson(await findMember(access(ctx), ctx.params.id ?? ''));
  });

  route(router, { method: 'patch', path: '/api/members/:id', response: R.member, summary: "Change a member's role or customer restriction", tag, auth: 'tenant', permission: 'members.manage', body: patchBody }, scope, requirePermission('members.manage'), idempotency(), async (ctx, { body }) => {
    const a = access(ctx);
    const member = await findMember(a, ctx.params.id ?? '');
    const changes: Partial<Membership> = {};
    if (member.id === a.membershipId && ((body.roleId !== undefined && body.roleId !== member.role_id) || (body.customerId !== undefined && body.customerId !== member.customer_id))) {
      throw new ApiError(403, 'forbidden', 'nobody changes their own role or customer restriction', { permission: 'members.manage' });
    }
    if (body.roleId !== undefined && body.roleId !== member.role_id) {
      const role = await assertWithinCaller(a, body.roleId);
      const touchesOwner = role.key === 'owner' || member.role_key === 'owner';
      if (touchesOwner && !callerIsOwner(a)) throw new ApiError(403, 'forbidden', 'only an owner can change who is an owner', { permission: 'members.manage' });
      if (member.role_key === 'owner' && role.key !== 'owner' && (await ownerCount(a)) <= 1) throw new ApiError(409, 'last_owner', 'the last owner cannot be demoted');
      changes.roleId = role.id;
    }
    if (body.customerId !== undefined) changes.customerId = await grantableCustomer(a, body.customerId);
    if (Object.keys(changes).length) {
      await a.manager.getRepository(Membership).update({ id: member.id }, changes);
      await audit(a.manager, { action: changes.roleId ? 'member_role_changed' : 'member_changed', outcome: 'success', targetType: 'member', targetId: member.id, details: { from: member.role_id, ...changes }, ...actor(a, ctx.state.requestId) });
    }
    ctx.body = toMemberJson(await findMember(a, member.id));
  });

  route(router, { method: 'delete', path: '/api/members/:id', summary: 'Remove a member', tag, auth: 'tenant', permission: 'members.manage', status: 204 }, scope, requirePermission('members.manage'), idempotency(), async (ctx) => {
    const a = access(ctx);
    const member = await findMember(a, ctx.params.id ?? '');
    if (member.role_key === 'owner') {
      if (!callerIsOwner(a)) throw new ApiError(403, 'forbidden', 'only an owner can remove an owner', { permission: 'members.manage' });
      if ((await ownerCount(a)) <= 1) throw new ApiError(409, 'last_owner', 'the last owner cannot be removed');
    }
    await a.manager.getRepository(Membership).delete({ id: member.id });
    await audit(a.manager, { action: 'member_removed', outcome: 'success', targetType: 'member', targetId: member.id, ...actor(a, ctx.state.requestId) });
    ctx.status = 204;
  });

  return router;
}
