// Resolving a caller over HTTP: the credential (session cookie or API token)
// gives a principal (services/access/sessions); the request's tenant
// transaction loads its access. The tenant comes from the credential only —
// never from a header, query or body.
import type Koa from 'koa';
import { type DataSource } from 'typeorm';
import { isUuid } from '../db/ids';
import { withTenant } from '../db/tenantContext';
import { ApiError } from '../lib/errors';
import { loadAccess, principalFromSession, principalFromToken } from '../services/access/sessions';
import { auditInOwnTransaction } from '../services/audit';
import { type Caller } from '../services/context';
import { type AppState, type TenantAccess } from './state';

export const SESSION_COOKIE = 'tf_session';

export const unauthenticated = () => new ApiError(401, 'unauthenticated', 'sign in or send an API token');

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

/** The caller of a `platformToo` route: a platform admin, or a tenant caller with the access its tenant transaction loaded. */
export function callerOf(ctx: { state: AppState }): Caller {
  const p = ctx.state.principal;
  if (!p) throw unauthenticated();
  if (p.kind === 'session' && p.isPlatformAdmin) return { kind: 'platform' };
  return { kind: 'tenant', access: access(ctx) };
}
