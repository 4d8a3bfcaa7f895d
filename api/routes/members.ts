// Members: users' memberships in the caller's tenant, each with one role and
// optionally restricted to one customer. The last owner can be neither
// removed nor demoted; only an owner can make someone an owner.
import Router from '@koa/router';
import { z } from 'zod';
import { Membership, Role, User } from '../../db/entities';
import { isId, newId } from '../../db/ids';
import { access, requirePermission, tenantScope } from '../access';
import { type AppDeps } from '../app';
import { audit } from '../audit';
import { hashPassword } from '../auth/passwords';
import { ApiError, notFound } from '../errors';
import { idempotency } from '../middleware/idempotency';
import { decodeCursor, likePattern, listQuery, page } from '../pagination';
import { route } from '../routing';
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
    password: z.string().min(10, 'at least 10 characters').max(1000).optional(),
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

async function findRole(a: TenantAccess, id: string): Promise<Role> {
  const role = await a.manager.getRepository(Role).findOneBy({ id });
  if (!role) throw new ApiError(400, 'validation_failed', 'invalid body', [{ path: 'roleId', message: 'no such role in this tenant', code: 'custom' }]);
  return role;
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

  route(router, { method: 'get', path: '/api/members', summary: 'List members', tag, auth: 'tenant', permission: 'members.read', query: listQuery }, scope, requirePermission('members.read'), async (ctx, { query }) => {
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

  route(router, { method: 'get', path: '/api/members/:id', summary: 'Get a member', tag, auth: 'tenant', permission: 'members.read' }, scope, requirePermission('members.read'), async (ctx) => {
    ctx.body = toMemberJson(await findMember(access(ctx), ctx.params.id ?? ''));
  });

  route(router, { method: 'post', path: '/api/members', summary: 'Add a member (creates the user when new)', tag, auth: 'tenant', permission: 'members.manage', body: createBody, status: 201 }, scope, requirePermission('members.manage'), idempotency(), async (ctx, { body }) => {
    const a = access(ctx);
    const role = await findRole(a, body.roleId);
    if (role.key === 'owner' && !callerIsOwner(a)) throw new ApiError(403, 'forbidden', 'only an owner can make someone an owner', { permission: 'members.manage' });
    if (body.customerId) await findCustomer(a, body.customerId).catch(() => {
      throw new ApiError(400, 'invalid_customer_context', 'customerId does not name a customer of this tenant');
    });
    const users = a.manager.getRepository(User);
    let user = await users.findOneBy({ email: body.email });
    if (!user) {
      if (!body.password) {
        throw new ApiError(400, 'validation_failed', 'invalid body', [{ path: 'password', message: 'required for a new user', code: 'custom' }]);
      }
      user = await users.save({ id: newId('usr'), email: body.email, name: body.name, passwordHash: await hashPassword(body.password), isPlatformAdmin: false });
    }
    if (await a.manager.getRepository(Membership).existsBy({ userId: user.id })) throw new ApiError(409, 'conflict', 'this user is already a member');
    const membership = await a.manager.getRepository(Membership).save({ id: newId('mem'), userId: user.id, roleId: role.id, customerId: body.customerId ?? null });
    await audit(a.manager, { action: 'member_added', outcome: 'success', targetType: 'member', targetId: membership.id, details: { roleId: role.id }, ...actor(a, ctx.state.requestId) });
    ctx.status = 201;
    ctx.body = toMemberJson(await findMember(a, membership.id));
  });

  route(router, { method: 'patch', path: '/api/members/:id', summary: "Change a member's role or customer restriction", tag, auth: 'tenant', permission: 'members.manage', body: patchBody }, scope, requirePermission('members.manage'), idempotency(), async (ctx, { body }) => {
    const a = access(ctx);
    const member = await findMember(a, ctx.params.id ?? '');
    const changes: Partial<Membership> = {};
    if (body.roleId !== undefined && body.roleId !== member.role_id) {
      const role = await findRole(a, body.roleId);
      const touchesOwner = role.key === 'owner' || member.role_key === 'owner';
      if (touchesOwner && !callerIsOwner(a)) throw new ApiError(403, 'forbidden', 'only an owner can change who is an owner', { permission: 'members.manage' });
      if (member.role_key === 'owner' && role.key !== 'owner' && (await ownerCount(a)) <= 1) throw new ApiError(409, 'last_owner', 'the last owner cannot be demoted');
      changes.roleId = role.id;
    }
    if (body.customerId !== undefined) {
      if (body.customerId) await findCustomer(a, body.customerId).catch(() => {
        throw new ApiError(400, 'invalid_customer_context', 'customerId does not name a customer of this tenant');
      });
      changes.customerId = body.customerId;
    }
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
