// Member routes: declarations over services/access/members. Adding someone is
// always an invitation (202), whatever the address.
import { PLAN_LIMIT_STATUS } from '../../services/billing/limits';
import { z } from 'zod';
import * as members from '../../services/access/members';
import { listQuery } from '../pagination';
import { type Routes } from '../routing';
import * as R from '../schemas/access.responses';

const roleId = z.string().regex(/^role_[0-9a-z]{26}$/, 'must be a role id (role_…)');
const customerId = z.string().regex(/^cust_[0-9a-z]{26}$/, 'must be a customer id (cust_…)');
const inviteBody = z
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

const tag = 'members';
const read = { tag, auth: 'tenant', permission: 'members.read' } as const;
const manage = { tag, auth: 'tenant', permission: 'members.manage', idempotent: true } as const;
const member = { params: { id: { prefix: 'mem', resource: 'member' } } } as const;

export function memberRoutes(r: Routes, deps: Omit<members.InviteMailDeps, 'log'>) {
  r.add({ method: 'get', path: '/api/members', summary: 'List members', ...read, query: listQuery, response: R.list(R.member) }, ({ access, query }) =>
    members.listMembers(access, query),
  );
  r.add(
    {
      method: 'post',
      path: '/api/members',
      errors: { ...PLAN_LIMIT_STATUS, 429: 'rate_limited: too many invitations from this tenant or inviter; retry after Retry-After seconds' },
      summary: 'Invite someone (the invitation is e-mailed to the address; the answer is the same whether or not it has an account)',
      ...manage,
      body: inviteBody,
      status: 202,
      response: R.invited,
    },
    ({ access, body, ctx }) => members.inviteMember(access, { ...deps, log: ctx.state.log }, body),
  );
  r.add(
    { method: 'get', path: '/api/members/invites', summary: 'Pending invitations', ...read, query: listQuery, response: R.list(R.pendingInvite) },
    ({ access, query }) => members.listPendingInvites(access, query),
  );
  r.add(
    {
      method: 'delete',
      path: '/api/members/invites/:id',
      summary: 'Withdraw a pending invitation',
      ...manage,
      params: { id: { prefix: 'inv', resource: 'invite' } },
      status: 204,
    },
    ({ access, params }) => members.withdrawInvite(access, params.id!),
  );
  r.add({ method: 'get', path: '/api/members/:id', summary: 'Get a member', ...read, ...member, response: R.member }, ({ access, params }) =>
    members.getMember(access, params.id!),
  );
  r.add(
    {
      method: 'patch',
      path: '/api/members/:id',
      summary: "Change a member's role or customer restriction",
      ...manage,
      ...member,
      body: patchBody,
      response: R.member,
    },
    ({ access, params, body }) => members.changeMember(access, params.id!, body),
  );
  r.add({ method: 'delete', path: '/api/members/:id', summary: 'Remove a member', ...manage, ...member, status: 204 }, ({ access, params }) =>
    members.removeMember(access, params.id!),
  );
}
