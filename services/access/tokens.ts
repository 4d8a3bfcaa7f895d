// API tokens: `Authorization: Bearer tf_…`, scoped to one tenant and one
// role, shown once, listed without the secret, revocable. Issued by a member
// with tokens.manage (never beyond the issuer's own role and customer), or by a
// platform admin for any tenant. Kept with the ApiToken entity (db/apiTokens.ts).
import { type DataSource, type EntityManager } from 'typeorm';
import { findApiToken, insertApiToken, listApiTokens, markTokenRevoked } from '../../db/apiTokens';
import { type ApiToken } from '../../db/entities';
import { isId, isUuid, newId } from '../../db/ids';
import { findRole, findRoleByKey } from '../../db/tenantRoles';
import { tenantExists } from '../../db/tenants';
import { withTenant } from '../../db/tenantContext';
import { ApiError, notFound } from '../../lib/errors';
import { formatApiToken, newSecret, sha256 } from '../../lib/secrets';
import { audit, auditBy } from '../audit';
import { type TenantAccess } from '../context';
import { assertWithinCaller } from './grants';

function tokenJson(t: ApiToken) {
  return {
    id: t.id,
    name: t.name,
    prefix: t.prefix,
    roleId: t.roleId,
    customerId: t.customerId,
    createdAt: t.createdAt,
    lastUsedAt: t.lastUsedAt,
    revokedAt: t.revokedAt,
  };
}

interface Issuer {
  userId: string | null;
  tokenId: string | null;
  requestId?: string;
  /** The issuer's customer restriction: the token inherits it. */
  customerId: string | null;
}

/** Issues a token in the current tenant context; returns it with its secret (shown once). */
async function issue(manager: EntityManager, tenantId: string, input: { name: string; roleId: string; issuer: Issuer }) {
  const role = await findRole(manager, input.roleId);
  if (!role) throw new ApiError(400, 'validation_failed', 'invalid body', [{ path: 'roleId', message: 'no such role in this tenant', code: 'custom' }]);
  const token = formatApiToken(tenantId, newSecret());
  const saved = await insertApiToken(manager, {
    id: newId('tok'),
    name: input.name,
    tokenHash: sha256(token),
    prefix: token.slice(0, 12),
    roleId: role.id,
    customerId: input.issuer.customerId,
    createdBy: input.issuer.userId,
    lastUsedAt: null,
    revokedAt: null,
  });
  await audit(manager, {
    action: 'token_issued',
    outcome: 'success',
    actorUserId: input.issuer.userId,
    actorTokenId: input.issuer.tokenId,
    requestId: input.issuer.requestId,
    targetType: 'token',
    targetId: saved.id,
    details: { roleId: role.id, customerId: input.issuer.customerId },
  });
  return { ...tokenJson(saved), token };
}

// A caller restricted to one customer works inside it: the tokens it sees and
// revokes are that customer's (its own and its peers'), and any other token —
// an unrestricted one, the owner's, another customer's — answers 404 like
// anything else outside its scope (docs/security.md, "What isolates what").
const inScope = (a: TenantAccess) => (a.restrictedCustomerId ? { customerId: a.restrictedCustomerId } : {});

export async function listTokens(a: TenantAccess) {
  return { data: (await listApiTokens(a.manager, inScope(a))).map(tokenJson) };
}

/** A member issues a token: without a roleId it gets the issuer's own role, never a default one that might grant more. */
export async function issueToken(a: TenantAccess, input: { name: string; roleId?: string }) {
  const roleId = input.roleId ?? a.roleId;
  await assertWithinCaller(a, roleId);
  return issue(a.manager, a.tenantId, {
    name: input.name,
    roleId,
    issuer: { userId: a.userId, tokenId: a.tokenId, requestId: a.requestId, customerId: a.restrictedCustomerId },
  });
}

export async function revokeToken(a: TenantAccess, id: string): Promise<void> {
  const token = isId('tok', id) ? await findApiToken(a.manager, { id, ...inScope(a) }) : null;
  if (!token) throw notFound('token');
  if (token.revokedAt) return;
  await markTokenRevoked(a.manager, id);
  await auditBy(a, { action: 'token_revoked', outcome: 'success', targetType: 'token', targetId: id });
}

/** A platform admin issues a token for any tenant: without a roleId it is the tenant's admin. */
export async function issuePlatformToken(
  dataSource: DataSource,
  tenantId: string,
  input: { name: string; roleId?: string },
  admin: { userId: string | null; requestId?: string },
) {
  if (!isUuid(tenantId) || !(await tenantExists(dataSource, tenantId))) throw notFound('tenant');
  return withTenant(dataSource, tenantId, async (m) => {
    const roleId = input.roleId ?? (await findRoleByKey(m, 'admin'))?.id ?? '';
    return issue(m, tenantId, { name: input.name, roleId, issuer: { userId: admin.userId, tokenId: null, requestId: admin.requestId, customerId: null } });
  });
}
