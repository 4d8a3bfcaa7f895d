// Who is calling and what they may do. A credential (session or API token)
// gives a principal; inside a tenant transaction the principal's membership or
// token role gives its permissions (loadAccess). Sign-in, sign-out and
// switching tenant (which rotates the session) live here too.
//
// Failed sign-ins (and only failed ones) are limited in two ways, neither of
// which lets a stranger lock anyone out: per client address (a cap on
// failures in a window, kept by the caller), and per account + client address
// (after a few failures, an exponentially growing wait, kept here in
// login_failures). A person signing in from their own address is never held
// back by failures from another.
import { spacesFor } from '../../lib/spaces';
import { type DataSource, type EntityManager } from 'typeorm';
import { findLiveTokenByHash } from '../../db/apiTokens';
import { activeTenantsOfUser, isActiveMemberOf, membershipAccessRows } from '../../db/memberships';
import {
  clearLoginFailures,
  countLoginFailure,
  deleteStaleLoginFailures,
  findLiveSession,
  insertSession,
  loginWaitSeconds,
  revokeSession,
} from '../../db/sessions';
import { withTenant, withUser } from '../../db/tenantContext';
import { rolePermissionRows, type RolePermissionRow } from '../../db/tenantRoles';
import { findUserWithPassword, getUser, updateUser } from '../../db/users';
import { ApiError } from '../../lib/errors';
import { verifyPassword } from '../../lib/passwords';
import { ALL_PERMISSIONS, isPermission } from '../../lib/permissions';
import { newSecret, parseApiToken, sha256 } from '../../lib/secrets';
import { audit, auditInOwnTransaction } from '../audit';
import { type Principal, type TenantAccess } from '../context';

/** Failures per account + address before waits begin; then 30 s, 60 s, 120 s, … up to MAX_BACKOFF_MS. */
const FREE_FAILURES = 5;
const MAX_BACKOFF_MS = 15 * 60 * 1000;
export const SESSION_TTL_MS = 7 * 24 * 60 * 60 * 1000;

export const tooManyAttempts = (retryAfterSeconds: number) =>
  new ApiError(429, 'too_many_attempts', 'too many sign-in attempts; try again later', { retryAfterSeconds });
const invalidCredentials = () => new ApiError(401, 'invalid_credentials', 'invalid e-mail or password');

export async function principalFromToken(dataSource: DataSource, token: string): Promise<Principal> {
  const parsed = parseApiToken(token);
  if (!parsed) throw new ApiError(401, 'invalid_token', 'invalid API token');
  const row = await withTenant(dataSource, parsed.tenantId, (m) => findLiveTokenByHash(m, sha256(token))).catch(() => undefined);
  if (!row) throw new ApiError(401, 'invalid_token', 'invalid API token');
  return { kind: 'token', tokenId: row.id, tenantId: parsed.tenantId, roleId: row.role_id, restrictedCustomerId: row.customer_id };
}

export async function principalFromSession(dataSource: DataSource, secret: string): Promise<Principal | undefined> {
  const hash = sha256(secret);
  const row = await findLiveSession(dataSource, hash);
  if (!row) return undefined;
  return { kind: 'session', sessionHash: hash, userId: row.user_id, tenantId: row.current_tenant, isPlatformAdmin: row.is_platform_admin };
}

const outsideRequest = () => {
  throw new Error('afterCommit needs a request transaction (tenantScope)');
};

/** The principal's role, permissions and customer restriction in the tenant of `manager`'s transaction. */
export async function loadAccess(
  manager: EntityManager,
  principal: Principal,
  tenantId: string,
  afterCommit: TenantAccess['afterCommit'] = outsideRequest,
): Promise<TenantAccess> {
  let roleId: string;
  let membershipId: string | null = null;
  let restrictedCustomerId: string | null;
  let rows: RolePermissionRow[];
  if (principal.kind === 'session') {
    // The membership, its role and the role's permissions in one round trip.
    const joined = await membershipAccessRows(manager, tenantId, principal.userId);
    // The membership was removed after the session was issued.
    if (joined.length === 0) throw new ApiError(401, 'membership_revoked', 'you are no longer a member of this tenant');
    ({ membership_id: membershipId, role_id: roleId, customer_id: restrictedCustomerId } = joined[0]!);
    rows = joined;
  } else {
    roleId = principal.roleId;
    restrictedCustomerId = principal.restrictedCustomerId;
    // The role and its permissions in one round trip.
    rows = await rolePermissionRows(manager, roleId);
  }
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

export interface TenantSummary {
  id: string;
  name: string;
  slug: string;
}

export async function tenantsOfUser(dataSource: DataSource, userId: string): Promise<TenantSummary[]> {
  return withUser(dataSource, userId, (m) => activeTenantsOfUser(m, userId));
}

export async function createSession(dataSource: DataSource, userId: string, tenantId: string | null): Promise<string> {
  const secret = newSecret();
  await insertSession(dataSource, { idHash: sha256(secret), userId, tenantId, expiresAt: new Date(Date.now() + SESSION_TTL_MS) });
  return secret;
}

/** What a signed-in caller sees about themselves. */
export async function describeSelf(dataSource: DataSource, principal: Principal) {
  if (principal.kind === 'token') {
    const access = await withTenant(dataSource, principal.tenantId, (m) => loadAccess(m, principal, principal.tenantId));
    return { user: null, token: { id: principal.tokenId }, tenant: { id: principal.tenantId }, permissions: [...access.permissions].sort(), tenants: [] };
  }
  const user = await getUser(dataSource, principal.userId);
  const tenants = await tenantsOfUser(dataSource, user.id);
  let current = null;
  let permissions: string[] = [];
  let role: { id: string; name: string; key: string | null } | null = null;
  let restrictedCustomerId = null;
  if (principal.tenantId) {
    const tenantId = principal.tenantId;
    const a = await withTenant(dataSource, tenantId, (m) => loadAccess(m, principal, tenantId));
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
    // The console's navigation and its server guards follow these (lib/spaces.ts).
    spaces: [...(current ? spacesFor(permissions) : []), ...(user.isPlatformAdmin ? (['platform'] as const) : [])],
    tenants,
  };
}

/** Counts a failure and sets the wait it earns (db/sessions.ts countLoginFailure). */
async function recordFailure(ds: DataSource, email: string, client: string): Promise<number> {
  const failures = await countLoginFailure(ds, email, client, FREE_FAILURES, MAX_BACKOFF_MS / 1000);
  // Old rows go away as new ones come.
  await deleteStaleLoginFailures(ds);
  return failures ?? 1;
}

export interface SignInAttempt {
  email: string;
  password: string;
  /** The client's address (at most 64 characters). */
  client: string;
  requestId?: string;
}

/** Checks the password and opens a session in the tenant the user left off in; throws 401 or 429. */
export async function signIn(ds: DataSource, attempt: SignInAttempt) {
  const wait = await loginWaitSeconds(ds, attempt.email, attempt.client);
  if (wait > 0) throw tooManyAttempts(wait);
  const user = await findUserWithPassword(ds, attempt.email);
  // Always verify (against a dummy hash for unknown e-mails): same time class.
  // An unverified account's password does not count until its address
  // follows the link mailed to it, and it fails exactly like a wrong one: the
  // answer never says that the address has an account (docs/security.md).
  const ok = (await verifyPassword(user?.passwordHash, attempt.password)) && Boolean(user?.emailVerifiedAt);
  if (!ok || !user) {
    const failures = await recordFailure(ds, attempt.email, attempt.client);
    if (user) {
      for (const t of await tenantsOfUser(ds, user.id)) {
        await auditInOwnTransaction(ds, t.id, {
          action: 'login',
          outcome: 'failure',
          actorUserId: user.id,
          requestId: attempt.requestId,
          details: { failures },
        });
      }
    }
    throw invalidCredentials();
  }
  await clearLoginFailures(ds, attempt.email, attempt.client);
  const tenants = await tenantsOfUser(ds, user.id);
  // Back where they left off: the last tenant they switched to, while they still belong to it.
  const current = tenants.find((t) => t.id === user.lastTenantId)?.id ?? tenants[0]?.id ?? null;
  const secret = await createSession(ds, user.id, current);
  if (current) await auditInOwnTransaction(ds, current, { action: 'login', outcome: 'success', actorUserId: user.id, requestId: attempt.requestId });
  return {
    secret,
    body: { user: { id: user.id, email: user.email, name: user.name, isPlatformAdmin: user.isPlatformAdmin }, tenants, currentTenantId: current },
  };
}

export async function signOut(ds: DataSource, principal: Principal | undefined): Promise<void> {
  if (principal?.kind === 'session') await revokeSession(ds, principal.sessionHash);
}

/** Moves a session to another tenant the user belongs to: the old session stops working; returns the new one's secret. */
export async function switchTenant(ds: DataSource, principal: Principal, tenantId: string, requestId?: string): Promise<string> {
  if (principal.kind !== 'session') throw new ApiError(403, 'forbidden', 'API tokens are bound to one tenant');
  const p = principal;
  const member = await withUser(ds, p.userId, (m) => isActiveMemberOf(m, p.userId, tenantId));
  if (!member) {
    if (p.tenantId) {
      await auditInOwnTransaction(ds, p.tenantId, {
        action: 'cross_tenant_attempt',
        outcome: 'denied',
        actorUserId: p.userId,
        requestId,
        details: { via: 'switch_tenant' },
      });
    }
    throw new ApiError(404, 'not_found', 'tenant not found');
  }
  await signOut(ds, p);
  const secret = await createSession(ds, p.userId, tenantId);
  await updateUser(ds, p.userId, { lastTenantId: tenantId });
  await withTenant(ds, tenantId, (m) => audit(m, { action: 'switch_tenant', outcome: 'success', actorUserId: p.userId, requestId }));
  return secret;
}
