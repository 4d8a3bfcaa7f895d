// API tokens: `Authorization: Bearer tf_…`, scoped to one tenant and one
// role, shown once, listed without the secret, revocable. Issued by an owner
// with tokens.manage, or by a platform admin for any tenant.
import { type EntityManager } from 'typeorm';
import { z } from 'zod';
import { ApiToken, Role, Tenant } from '../../db/entities';
import { isId, isUuid, newId } from '../../db/ids';
import { withTenant } from '../../db/tenantContext';
import { access } from '../access';
import { assertWithinCaller } from '../../services/access/grants';
import { type AppDeps } from '../deps';
import { audit, auditBy } from '../../services/audit';
import { formatApiToken, newSecret, sha256 } from '../../lib/secrets';
import { ApiError, notFound } from '../../lib/errors';
import { type Routes } from '../routing';
import * as R from '../schemas/responses';

const createBody = z
  .object({ name: z.string().trim().min(1).max(100), roleId: z.string().regex(/^role_[0-9a-z]{26}$/, 'must be a role id (role_…)').optional() })
  .strict();

function toTokenJson(t: ApiToken) {
  return { id: t.id, name: t.name, prefix: t.prefix, roleId: t.roleId, customerId: t.customerId, createdAt: t.createdAt, lastUsedAt: t.lastUsedAt, revokedAt: t.revokedAt };
}

interface Issuer {
  userId: string | null;
  tokenId: string | null;
  requestId: string;
  /** The issuer's customer restriction: the token inherits it. */
  customerId: string | null;
}

/** Issues a token in the current tenant context; returns it with its secret (shown once). */
async function issueToken(manager: EntityManager, tenantId: string, input: { name: string; roleId: string; issuer: Issuer }) {
  const role = await manager.getRepository(Role).findOneBy({ id: input.roleId });
  if (!role) throw new ApiError(400, 'validation_failed', 'invalid body', [{ path: 'roleId', message: 'no such role in this tenant', code: 'custom' }]);
  const token = formatApiToken(tenantId, newSecret());
  const saved = await manager.getRepository(ApiToken).save({
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
  return { ...toTokenJson(saved), token };
}

export function tokenRoutes(r: Routes, deps: AppDeps) {
  const tag = 'tokens';

  r.add({ method: 'get', path: '/api/tokens', response: R.tokenList, summary: 'List API tokens (without secrets)', tag, auth: 'tenant', permission: 'tokens.manage' }, async ({ ctx }) => {
    const tokens = await access(ctx).manager.getRepository(ApiToken).find({ order: { id: 'ASC' } });
    ctx.body = { data: tokens.map(toTokenJson) };
  });

  r.add({ method: 'post', path: '/api/tokens', response: R.issuedToken, summary: 'Issue an API token (the secret is shown once)', tag, auth: 'tenant', permission: 'tokens.manage', body: createBody, status: 201, idempotent: true }, async ({ ctx, body }) => {
    const a = access(ctx);
    // Without a roleId the token gets the issuer's own role, never a default
    // one; either way it holds nothing its issuer does not (spec §3.11).
    const roleId = body.roleId ?? a.roleId;
    await assertWithinCaller(a, roleId);
    ctx.status = 201;
    ctx.state.secretFields = ['token'];
    ctx.body = await issueToken(a.manager, a.tenantId, {
      name: body.name,
      roleId,
      issuer: { userId: a.userId, tokenId: a.tokenId, requestId: ctx.state.requestId, customerId: a.restrictedCustomerId },
    });
  });

  r.add({ method: 'delete', path: '/api/tokens/:id', summary: 'Revoke an API token', tag, auth: 'tenant', permission: 'tokens.manage', status: 204, idempotent: true }, async ({ ctx }) => {
    const a = access(ctx);
    const id = ctx.params.id ?? '';
    const token = isId('tok', id) ? await a.manager.getRepository(ApiToken).findOneBy({ id }) : null;
    if (!token) throw notFound('token');
    if (!token.revokedAt) {
      await a.manager.getRepository(ApiToken).update({ id }, { revokedAt: new Date() });
      await auditBy(a, { action: 'token_revoked', outcome: 'success', targetType: 'token', targetId: id });
    }
    ctx.status = 204;
  });

  r.add({ method: 'post', path: '/api/platform/tenants/:id/tokens', response: R.issuedToken, summary: 'Issue an API token for a tenant (platform admin)', tag: 'platform', auth: 'platform', body: createBody, status: 201 }, async ({ ctx, body }) => {
    const tenantId = ctx.params.id ?? '';
    if (!isUuid(tenantId) || !(await deps.dataSource.getRepository(Tenant).existsBy({ id: tenantId }))) throw notFound('tenant');
    const admin = ctx.state.principal?.kind === 'session' ? ctx.state.principal.userId : null;
    ctx.status = 201;
    ctx.body = await withTenant(deps.dataSource, tenantId, async (m) => {
      // The platform admin stands above every tenant: without a roleId the token is the tenant's admin.
      const roleId = body.roleId ?? (await m.getRepository(Role).findOneBy({ key: 'admin' }))?.id ?? '';
      return issueToken(m, tenantId, { name: body.name, roleId, issuer: { userId: admin, tokenId: null, requestId: ctx.state.requestId, customerId: null } });
    });
  });

}
