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
import { type DataSource, type EntityManager } from 'typeorm';
import { User } from '../../db/entities';
import { withTenant, withUser } from '../../db/tenantContext';
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
      WHERE s.id_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now() AND u.email_verified_at IS NOT NULL`,
    [hash],
  )) as { user_id: string; current_tenant: string | null; is_platform_admin: boolean }[];
  const row = rows[0];
  if (!row) return undefined;
  return { kind: 'session', sessionHash: hash, userId: row.user_id, tenantId: row.current_tenant, isPlatformAdmin: row.is_platform_admin };
}

const outsideRequest = () => {
  throw new Error('afterCommit needs a request transaction (tenantScope)');
};

/** A role's key and name, once per permission it grants (a role with none: one row, permission null). */
type RoleRow = { key: string | null; name: string | null; permission: string | null };
const ROLE_PERMISSIONS = 'LEFT JOIN role_permissions rp ON rp.tenant_id = r.tenant_id AND rp.role_id = r.id';

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
  let rows: RoleRow[];
  if (principal.kind === 'session') {
    // The membership, its role and the role's permissions in one round trip.
    const joined = (await manager.query(
      `SELECT m.id AS membership_id, m.role_id, m.customer_id, r.key, r.name, rp.permission
         FROM memberships m
         LEFT JOIN roles r ON r.tenant_id = m.tenant_id AND r.id = m.role_id
         ${ROLE_PERMISSIONS}
        WHERE m.tenant_id = $1 AND m.user_id = $2`,
      [tenantId, principal.userId],
    )) as (RoleRow & { membership_id: string; role_id: string; customer_id: string | null })[];
    // The membership was removed after the session was issued.
    if (joined.length === 0) throw new ApiError(401, 'membership_revoked', 'you are no longer a member of this tenant');
    ({ membership_id: membershipId, role_id: roleId, customer_id: restrictedCustomerId } = joined[0]!);
    rows = joined;
  } else {
    roleId = principal.roleId;
    restrictedCustomerId = principal.restrictedCustomerId;
    // The role and its permissions in one round trip.
    rows = (await manager.query(`SELECT r.key, r.name, rp.permission FROM roles r ${ROLE_PERMISSIONS} WHERE r.id = $1`, [roleId])) as RoleRow[];
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
  return withUser(dataSource, userId, (m) =>
    m.query(
      `SELECT t.id, t.name, t.slug FROM memberships ms JOIN tenants t ON t.id = ms.tenant_id
        WHERE ms.user_id = $1 AND t.status = 'active' ORDER BY t.name, t.id`,
      [userId],
    ),
  );
}

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

/** What a signed-in caller sees about themselves. */
export async function describeSelf(dataSource: DataSource, principal: Principal) {
  if (principal.kind === 'token') {
    const access = await withTenant(dataSource, principal.tenantId, (m) => loadAccess(m, principal, principal.tenantId));
    return { user: null, token: { id: principal.tokenId }, tenant: { id: principal.tenantId }, permissions: [...access.permissions].sort(), tenants: [] };
  }
  const user = await dataSource.getRepository(User).findOneByOrFail({ id: principal.userId });
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
    tenants,
  };
}

/** Seconds the account + address must still wait, or 0. */
async function backoffFor(ds: DataSource, email: string, client: string): Promise<number> {
  const [row] = (await ds.query(
    'SELECT ceil(extract(epoch FROM blocked_until - now()))::int AS wait FROM login_failures WHERE email = $1 AND client = $2 AND blocked_until > now()',
    [email, client],
  )) as { wait: number }[];
  return row?.wait ?? 0;
}

/** Counts a failure (a day's quiet starts the count afresh) and sets the wait it earns, in one statement. */
async function recordFailure(ds: DataSource, email: string, client: string): Promise<number> {
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

export interface SignInAttempt {
  email: string;
  password: string;
  /** The client's address (at most 64 characters). */
  client: string;
  requestId?: string;
}

/** Checks the password and opens a session in the tenant the user left off in; throws 401 or 429. */
export async function signIn(ds: DataSource, attempt: SignInAttempt) {
  const wait = await backoffFor(ds, attempt.email, attempt.client);
  if (wait > 0) throw tooManyAttempts(wait);
  const user = await ds.getRepository(User).createQueryBuilder('u').addSelect('u.passwordHash').where('u.email = :email', { email: attempt.email }).getOne();
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
  await ds.query('DELETE FROM login_failures WHERE email = $1 AND client = $2', [attempt.email, attempt.client]);
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
  if (principal?.kind === 'session') await ds.query('UPDATE sessions SET revoked_at = now() WHERE id_hash = $1', [principal.sessionHash]);
}

/** Moves a session to another tenant the user belongs to: the old session stops working; returns the new one's secret. */
export async function switchTenant(ds: DataSource, principal: Principal, tenantId: string, requestId?: string): Promise<string> {
  if (principal.kind !== 'session') throw new ApiError(403, 'forbidden', 'API tokens are bound to one tenant');
  const p = principal;
  const member = (await withUser(ds, p.userId, (m) =>
    m.query("SELECT 1 FROM memberships ms JOIN tenants t ON t.id = ms.tenant_id WHERE ms.user_id = $1 AND ms.tenant_id = $2 AND t.status = 'active'", [
      p.userId,
      tenantId,
    ]),
  )) as unknown[];
  if (member.length === 0) {
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
  await ds.getRepository(User).update({ id: p.userId }, { lastTenantId: tenantId });
  await withTenant(ds, tenantId, (m) => audit(m, { action: 'switch_tenant', outcome: 'success', actorUserId: p.userId, requestId }));
  return secret;
}
