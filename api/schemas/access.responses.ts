// What the access routes answer on success: sign-in, the caller, customers,
// roles, members, invitations, API tokens, the audit log. How these schemas
// are used: api/schemas/common.ts.
import { z } from 'zod';
import { at, id, uuid, list, dataOnly, record } from './common';

export { list } from './common';

const tenantSummary = z.strictObject({ id: uuid, name: z.string(), slug: z.string() });
const userJson = z.strictObject({ id: id('usr'), email: z.string(), name: z.string(), isPlatformAdmin: z.boolean() });
export const loginResponse = z.strictObject({ user: userJson, tenants: z.array(tenantSummary), currentTenantId: uuid.nullable() });
export const meResponse = z.union([
  z.strictObject({
    user: userJson,
    tenant: tenantSummary.nullable(),
    role: z.strictObject({ id: id('role'), name: z.string(), key: z.string().nullable() }).nullable(),
    permissions: z.array(z.string()),
    restrictedCustomerId: id('cust').nullable(),
    /** The console spaces the caller sees (lib/spaces.ts), the platform's last. */
    spaces: z.array(z.enum(['client', 'provider', 'dev', 'accounting', 'platform'])),
    tenants: z.array(tenantSummary),
  }),
  z.strictObject({
    user: z.null(),
    token: z.strictObject({ id: id('tok') }),
    tenant: z.strictObject({ id: uuid }),
    permissions: z.array(z.string()),
    tenants: z.array(z.never()),
  }),
]);
export const customer = z.strictObject({ id: id('cust'), name: z.string(), createdAt: at, updatedAt: at });
export const customerContext = z.strictObject({ customer: z.strictObject({ id: id('cust'), name: z.string() }) });
export const role = z.strictObject({ id: id('role'), name: z.string(), key: z.string().nullable(), isSystem: z.boolean(), permissions: z.array(z.string()) });
export const roleList = z.strictObject({ data: z.array(role), permissions: z.array(z.string()) });
export const member = z.strictObject({
  id: id('mem'),
  user: z.strictObject({ id: id('usr'), email: z.string(), name: z.string() }),
  role: z.strictObject({ id: id('role'), name: z.string(), key: z.string().nullable() }),
  customerId: id('cust').nullable(),
  createdAt: at,
});
export const invited = z.strictObject({
  invite: z.strictObject({
    id: id('inv'),
    email: z.string(),
    name: z.string(),
    roleId: id('role'),
    customerId: id('cust').nullable(),
    expiresAt: at,
    status: z.literal('pending'),
  }),
});
export const pendingInvite = z.strictObject({
  id: id('inv'),
  email: z.string(),
  roleId: id('role'),
  customerId: id('cust').nullable(),
  expiresAt: at,
  createdAt: at,
  status: z.literal('pending'),
});
export const myInvites = dataOnly(z.strictObject({ id: id('inv'), tenant: z.strictObject({ id: uuid, name: z.string() }), expiresAt: at }));
export const acceptedInvite = z.strictObject({ tenantId: uuid });
const tokenFields = {
  id: id('tok'),
  name: z.string(),
  prefix: z.string(),
  roleId: id('role'),
  customerId: id('cust').nullable(),
  createdAt: at,
  lastUsedAt: at.nullable(),
  revokedAt: at.nullable(),
};
export const tokenList = dataOnly(z.strictObject(tokenFields));
export const issuedToken = z.strictObject({ ...tokenFields, token: z.string().regex(/^tf_[0-9a-f]{32}_/) });
export const auditList = list(
  z.strictObject({
    id: id('aud'),
    at,
    action: z.string(),
    outcome: z.enum(['success', 'failure', 'denied']),
    actorUserId: z.string().nullable(),
    actorTokenId: z.string().nullable(),
    targetType: z.string().nullable(),
    targetId: z.string().nullable(),
    requestId: z.string().nullable(),
    details: record,
  }),
);
