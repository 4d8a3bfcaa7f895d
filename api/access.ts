// Resolving a caller: the credential (session cookie or API token) gives a
// principal; inside the request's tenant transaction the principal's
// membership or token role gives its permissions. The tenant comes from the
// credential only — never from a header, query or body (spec §3.5).
import type Koa from 'koa';
import { type DataSource, type EntityManager } from 'typeorm';
import { isPermission } from '../lib/permissions';
import { isUuid } from '../db/ids';
import { withTenant, withUser } from '../db/tenantContext';
import { auditInOwnTransaction } from '../services/audit';
import { parseApiToken, sha256 } from '../lib/secrets';
import { ApiError } from '../lib/errors';
import { type AppState, type Principal, type TenantAccess } from './state';

export const SESSION_COOKIE = 'tf_session';

export const unauthenticated = () => new ApiError(401, 'unauthenticated', 'sign in or send an API token');

async function principalFromToken(dataSource: DataSource, token: string): Promise<Principal> {
  const parsed = parseApiToken(token);
  if (!parsed) throw new ApiError(401, 'invalid_token', 'invalid API token');
  const rows = await withTenant(dataSource, parsed.tenantId, (m) =>
    m.query('SELECT id, role_id, customer_id FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL', [sha256(token)]),
  ).catch(() => []);
  const row = (rows as { id: string; role_id: string; customer_id: string | null }[])[0];
  if (!row) throw new ApiError(401, 'invalid_token', 'invalid API token');
  return { kind: 'token', tokenId: row.id, tenantId: parsed.tenantId, roleId: row.role_id, restrictedCustomerId: row.customer_id };
}

export async function principalFromSession(dataSource: DataSource, secret: string): Promise<Principal | undefined> {
  const hash = sha256(secret);
  const rows = (await dataSource.query(
    `SELECT s.user_id, s.current_tenant, u.is_platform_admin
       FROM sessions s JOIN users u ON u.id = s.user_id
      WHERE s.id_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now()`,
    [hash],
  )) as { user_id: string; current_tenant: string | null; is_platform_admin: boolean }[];
  const row = rows[0];
  if (!row) return undefined;
  return { kind: 'session', sessionHash: hash, userId: row.user_id, tenantId: row.current_tenant, isPlatformAdmin: row.is_platform_admin };
}

/** Reads the credential; a bad bearer token is 401 at once, a stale cookie just means "signed out". */
export function authenticate(dataSource: DataSource) {
  return async function authenticate(ctx: Koa.ParameterizedContext<AppState>, next: Koa.Next) {
    const authorization = ctx.get('authorization');
    if (authorization) {
      const m = /^Bearer\s+(\S+)$/i.exec(authorization);
      if (!m?.[1]) throw new ApiError(401, 'invalid_token', 'Authorization must be "Bearer <token>"');
      ctx.state.principal = await principalFromToken(dataSource, m[1]);
    } else {
      const secret = ctx.cookies.get(SESSION_COOKIE);
      if (secret) ctx.state.principal = await principalFromSession(dataSource, secret);
    }
    return next();
  };
}

const outsideRequest = () => {
  throw new Error('afterCommit needs a request transaction (tenantScope)');
};

export async function loadAccess(manager: EntityManager, principal: Principal, tenantId: string, afterCommit: TenantAccess['afterCommit'] = outsideRequest): Promise<TenantAccess> {
  let roleId: string;
  let membershipId: string | null = null;
  let restrictedCustomerId: string | null;
  if (principal.kind === 'session') {
    const rows = (await manager.query('SELECT id, role_id, customer_id FROM memberships WHERE tenant_id = $1 AND user_id = $2', [
      tenantId,
      principal.userId,
    ])) as { id: string; role_id: string; customer_id: string | null }[];
    const membership = rows[0];
    // The membership was removed after the session was issued.
    if (!membership) throw new ApiError(401, 'membership_revoked', 'you are no longer a member of this tenant');
    roleId = membership.role_id;
    membershipId = membership.id;
    restrictedCustomerId = membership.customer_id;
  } else {
    roleId = principal.roleId;
    restrictedCustomerId = principal.restrictedCustomerId;
  }
  // The role and its permissions in one round trip.
  const rows = (await manager.query(
    'SELECT r.key, r.name, rp.permission FROM roles r LEFT JOIN role_permissions rp ON rp.tenant_id = r.tenant_id AND rp.role_id = r.id WHERE r.id = $1',
    [roleId],
  )) as { key: string | null; name: string; permission: string | null }[];
  return {
    tenantId,
    userId: principal.kind === 'session' ? principal.userId : null,
    tokenId: principal.kind === 'token' ? principal.tokenId : null,
    membershipId,
    roleId,
    roleKey: rows[0]?.key ?? null,
    roleName: rows[0]?.name ?? '',
    permissions: new Set(rows.map((r) => r.permission ?? '').filter(isPermission)),
    restrictedCustomerId,
    manager,
    afterCommit,
  };
}

const TENANT_HEADERS = ['x-tenant-id', 'x-tenant-slug'];

/**
 * Runs the rest of the request in the caller's tenant transaction with its
 * access loaded. Any error rolls the whole request back; a permission denial
 * is then written to the audit log in a transaction of its own.
 */
export function tenantScope(dataSource: DataSource) {
  return async function tenantScope(ctx: Koa.ParameterizedContext<AppState>, next: Koa.Next) {
    const principal = ctx.state.principal;
    if (!principal) throw unauthenticated();
    if (!principal.tenantId) throw new ApiError(403, 'no_tenant', 'select a tenant first (POST /api/auth/switch-tenant)');
    const tenantId = principal.tenantId;
    // Inbound tenant headers never choose the tenant; a mismatching one is
    // counted as a cross-tenant attempt (without telling the caller).
    const claimed = TENANT_HEADERS.map((h) => ctx.get(h)).find((v) => v && v !== tenantId);
    const actor = { actorUserId: principal.kind === 'session' ? principal.userId : null, actorTokenId: principal.kind === 'token' ? principal.tokenId : null };
    ctx.state.afterCommit = [];
    try {
      await withTenant(dataSource, tenantId, async (manager) => {
        ctx.state.access = { ...(await loadAccess(manager, principal, tenantId, (fn) => ctx.state.afterCommit!.push(fn))), requestId: ctx.state.requestId };
        await next();
      });
      // Work that must see the committed rows (starting workflows whose
      // activities read them) runs only once the transaction has committed.
      for (const fn of ctx.state.afterCommit.splice(0)) await fn();
    } catch (err) {
      if (err instanceof ApiError && err.status === 403 && err.code === 'forbidden') {
        await auditInOwnTransaction(dataSource, tenantId, {
          action: 'permission_denied',
          outcome: 'denied',
          ...actor,
          requestId: ctx.state.requestId,
          details: { method: ctx.method, path: ctx.path, permission: (err.details as { permission?: string } | undefined)?.permission },
        });
      }
      throw err;
    } finally {
      if (claimed) {
        await auditInOwnTransaction(dataSource, tenantId, {
          action: 'cross_tenant_attempt',
          outcome: 'denied',
          ...actor,
          requestId: ctx.state.requestId,
          details: { via: 'tenant_header', method: ctx.method, path: ctx.path, claimedTenant: isUuid(claimed) ? claimed : 'malformed' },
        });
      }
    }
  };
}

export function access(ctx: { state: AppState }): TenantAccess {
  const a = ctx.state.access;
  if (!a) throw new Error('tenantScope() must run before this handler');
  return a;
}

export interface TenantSummary {
  id: string;
  name: string;
  slug: string;
}

export async function tenantsOfUser(dataSource: DataSource, userId: string): Promise<TenantSummary[]> {
  return withUser(dataSource, userId, (m) =>
    m.query(
      `SELECT t.id, t.name, t.slug FROM memberships ms JOIN tenants t ON t.id = ms.tenant_id
        WHERE ms.user_id = $1 AND t.status = 'active' ORDER BY t.name, t.id`,
      [userId],
    ),
  );
}
