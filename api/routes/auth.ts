// Sign-in and sessions: login (argon2id), logout, me, and switching tenant
// (which checks membership and rotates the session).
//
// Failed sign-ins (and only failed ones) are limited in two ways, neither of
// which lets a stranger lock anyone out: per client address (a cap on
// failures in a window), and per account + client address (after a few
// failures, an exponentially growing wait). A person signing in from their
// own address is never held back by failures from another; the console names
// its users' addresses (middleware/clientAddress).
import type Koa from 'koa';
import { type DataSource } from 'typeorm';
import { z } from 'zod';
import { ALL_PERMISSIONS } from '../../lib/permissions';
import { User } from '../../db/entities';
import { withTenant } from '../../db/tenantContext';
import { loadAccess, principalFromSession, SESSION_COOKIE, tenantsOfUser, unauthenticated } from '../access';
import { withUser } from '../../db/tenantContext';
import { type AppDeps } from '../deps';
import { audit, auditInOwnTransaction } from '../../services/audit';
import { verifyPassword } from '../../lib/passwords';
import { newSecret, sha256 } from '../../lib/secrets';
import { ApiError } from '../../lib/errors';
import { RateLimiter } from '../rateLimit';
import { type Routes } from '../routing';
import * as R from '../schemas/responses';
import { type AppState, type Principal } from '../state';

/** Failures per account + address before waits begin; then 30 s, 60 s, 120 s, … up to MAX_BACKOFF_MS. */
const FREE_FAILURES = 5;
const MAX_BACKOFF_MS = 15 * 60 * 1000;
const IP_WINDOW_MS = 15 * 60 * 1000;
const SESSION_TTL_MS = 7 * 24 * 60 * 60 * 1000;

const loginBody = z.object({ email: z.string().trim().toLowerCase().email().max(320), password: z.string().min(1).max(1000) }).strict();
const switchBody = z.object({ tenantId: z.string().uuid() }).strict();

const tooMany = (retryAfterSeconds: number) =>
  new ApiError(429, 'too_many_attempts', 'too many sign-in attempts; try again later', { retryAfterSeconds });
const invalidCredentials = () => new ApiError(401, 'invalid_credentials', 'invalid e-mail or password');

export async function createSession(dataSource: DataSource, userId: string, tenantId: string | null): Promise<string> {
  const secret = newSecret();
  await dataSource.query('INSERT INTO sessions (id_hash, user_id, current_tenant, expires_at) VALUES ($1, $2, $3, $4)', [
    sha256(secret),
    userId,
    tenantId,
    new Date(Date.now() + SESSION_TTL_MS),
  ]);
  return secret;
}

function setSessionCookie(ctx: Koa.ParameterizedContext<AppState>, secret: string | null, secure: boolean) {
  // Behind the operator's TLS terminator (or the console) the API itself may
  // speak plain HTTP; the cookie is still marked for https-only use.
  if (secure) ctx.cookies.secure = true;
  ctx.cookies.set(SESSION_COOKIE, secret, {
    httpOnly: true,
    sameSite: 'lax',
    secure,
    path: '/',
    maxAge: secret ? SESSION_TTL_MS : undefined,
    overwrite: true,
  });
}

/** What a signed-in caller sees about themselves. */
export async function describeSelf(deps: AppDeps, principal: Principal) {
  if (principal.kind === 'token') {
    const access = await withTenant(deps.dataSource, principal.tenantId, (m) => loadAccess(m, principal, principal.tenantId));
    return { user: null, token: { id: principal.tokenId }, tenant: { id: principal.tenantId }, permissions: [...access.permissions].sort(), tenants: [] };
  }
  const user = await deps.dataSource.getRepository(User).findOneByOrFail({ id: principal.userId });
  const tenants = await tenantsOfUser(deps.dataSource, user.id);
  let current = null;
  let permissions: string[] = [];
  let role: { id: string; name: string; key: string | null } | null = null;
  let restrictedCustomerId = null;
  if (principal.tenantId) {
    const tenantId = principal.tenantId;
    const a = await withTenant(deps.dataSource, tenantId, (m) => loadAccess(m, principal, tenantId));
    current = tenants.find((t) => t.id === tenantId) ?? null;
    permissions = ALL_PERMISSIONS.filter((p) => a.permissions.has(p));
    role = { id: a.roleId, name: a.roleName, key: a.roleKey };
    restrictedCustomerId = a.restrictedCustomerId;
  }
  return {
    user: { id: user.id, email: user.email, name: user.name, isPlatformAdmin: user.isPlatformAdmin },
    tenant: current,
    role,
    permissions,
    restrictedCustomerId,
    tenants,
  };
}

export function authRoutes(r: Routes, deps: AppDeps) {
  const failuresByIp = new RateLimiter(deps.limits?.loginPerIp ?? 50, IP_WINDOW_MS);
  const ds = deps.dataSource;

  /** Seconds the account + address must still wait, or 0. */
  async function backoffFor(email: string, client: string): Promise<number> {
    const [row] = (await ds.query('SELECT ceil(extract(epoch FROM blocked_until - now()))::int AS wait FROM login_failures WHERE email = $1 AND client = $2 AND blocked_until > now()', [
      email,
      client,
    ])) as { wait: number }[];
    return row?.wait ?? 0;
  }

  /** Counts a failure (a day's quiet starts the count afresh) and sets the wait it earns, in one statement. */
  async function recordFailure(email: string, client: string): Promise<number> {
    const next = "CASE WHEN login_failures.updated_at < now() - interval '1 day' THEN 1 ELSE login_failures.failures + 1 END";
    const [row] = (await ds.query(
      `INSERT INTO login_failures (email, client, failures, updated_at) VALUES ($1, $2, 1, now())
       ON CONFLICT (email, client) DO UPDATE SET
         failures = ${next},
         updated_at = now(),
         blocked_until = CASE WHEN ${next} >= $3 THEN now() + least($4::int, 30 * 2 ^ least(${next} - $3, 10)) * interval '1 second' END
       RETURNING failures`,
      [email, client, FREE_FAILURES, MAX_BACKOFF_MS / 1000],
    )) as { failures: number }[];
    // Old rows go away as new ones come.
    await ds.query("DELETE FROM login_failures WHERE updated_at < now() - interval '1 day' AND (blocked_until IS NULL OR blocked_until < now())");
    return row?.failures ?? 1;
  }

  const secureCookies = deps.secureCookies ?? false;

  r.add({ method: 'post', path: '/api/auth/login', response: R.loginResponse, summary: 'Sign in with e-mail and password', tag: 'auth', auth: 'public', body: loginBody }, async ({ ctx, body }) => {
    const client = (ctx.state.clientAddress ?? 'unknown').slice(0, 64);
    if (failuresByIp.blocked(client)) throw tooMany(failuresByIp.retryAfter(client));
    const wait = await backoffFor(body.email, client);
    if (wait > 0) throw tooMany(wait);

    const users = ds.getRepository(User);
    const user = await users.createQueryBuilder('u').addSelect('u.passwordHash').where('u.email = :email', { email: body.email }).getOne();
    // Always verify (against a dummy hash for unknown e-mails): same time class.
    const ok = await verifyPassword(user?.passwordHash, body.password);

    if (!ok || !user) {
      failuresByIp.hit(client);
      const failures = await recordFailure(body.email, client);
      if (user) {
        for (const t of await tenantsOfUser(ds, user.id)) {
          await auditInOwnTransaction(ds, t.id, { action: 'login', outcome: 'failure', actorUserId: user.id, requestId: ctx.state.requestId, details: { failures } });
        }
      }
      ctx.state.log.info({ outcome: 'failure' }, 'login');
      throw invalidCredentials();
    }

    await ds.query('DELETE FROM login_failures WHERE email = $1 AND client = $2', [body.email, client]);
    const tenants = await tenantsOfUser(ds, user.id);
    // Back where they left off: the last tenant they switched to, while they still belong to it.
    const current = tenants.find((t) => t.id === user.lastTenantId)?.id ?? tenants[0]?.id ?? null;
    const secret = await createSession(deps.dataSource, user.id, current);
    if (current) await auditInOwnTransaction(deps.dataSource, current, { action: 'login', outcome: 'success', actorUserId: user.id, requestId: ctx.state.requestId });
    setSessionCookie(ctx, secret, secureCookies);
    ctx.state.log.info({ userId: user.id, tenantId: current, outcome: 'success' }, 'login');
    ctx.body = {
      user: { id: user.id, email: user.email, name: user.name, isPlatformAdmin: user.isPlatformAdmin },
      tenants,
      currentTenantId: current,
    };
  });

  r.add({ method: 'post', path: '/api/auth/logout', summary: 'Sign out (revokes the session)', tag: 'auth', auth: 'session', status: 204 }, async ({ ctx }) => {
    const p = ctx.state.principal;
    if (p?.kind === 'session') await deps.dataSource.query('UPDATE sessions SET revoked_at = now() WHERE id_hash = $1', [p.sessionHash]);
    setSessionCookie(ctx, null, secureCookies);
    ctx.status = 204;
  });

  r.add({ method: 'get', path: '/api/auth/me', response: R.meResponse, summary: 'The caller, the current tenant and its permissions', tag: 'auth', auth: 'session' }, async ({ ctx }) => {
    const p = ctx.state.principal;
    if (!p) throw unauthenticated();
    ctx.body = await describeSelf(deps, p);
  });

  r.add({ method: 'post', path: '/api/auth/switch-tenant', response: R.meResponse, summary: 'Switch to another tenant the user belongs to (rotates the session)', tag: 'auth', auth: 'session', body: switchBody }, async ({ ctx, body }) => {
    const p = ctx.state.principal;
    if (!p) throw unauthenticated();
    if (p.kind !== 'session') throw new ApiError(403, 'forbidden', 'API tokens are bound to one tenant');
    const member = await withUser(deps.dataSource, p.userId, (m) =>
      m.query("SELECT 1 FROM memberships ms JOIN tenants t ON t.id = ms.tenant_id WHERE ms.user_id = $1 AND ms.tenant_id = $2 AND t.status = 'active'", [p.userId, body.tenantId]),
    );
    if ((member as unknown[]).length === 0) {
      if (p.tenantId) {
        await auditInOwnTransaction(deps.dataSource, p.tenantId, {
          action: 'cross_tenant_attempt',
          outcome: 'denied',
          actorUserId: p.userId,
          requestId: ctx.state.requestId,
          details: { via: 'switch_tenant' },
        });
      }
      throw new ApiError(404, 'not_found', 'tenant not found');
    }
    // Rotate: the old session stops working, a new one names the new tenant.
    await deps.dataSource.query('UPDATE sessions SET revoked_at = now() WHERE id_hash = $1', [p.sessionHash]);
    const secret = await createSession(deps.dataSource, p.userId, body.tenantId);
    await deps.dataSource.getRepository(User).update({ id: p.userId }, { lastTenantId: body.tenantId });
    await withTenant(deps.dataSource, body.tenantId, (m) => audit(m, { action: 'switch_tenant', outcome: 'success', actorUserId: p.userId, requestId: ctx.state.requestId }));
    setSessionCookie(ctx, secret, secureCookies);
    const next = await principalFromSession(deps.dataSource, secret);
    ctx.body = await describeSelf(deps, next!);
  });

}
