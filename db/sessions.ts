// Console sessions and failed sign-ins. A session row is the hash of the
// cookie's secret, its user and the tenant it works in; revoking it ends the
// cookie. login_failures counts failures per account address and client
// address, and holds the wait they earn. Both are platform tables (no RLS).
import { type DataSource, type EntityManager } from 'typeorm';

/** A DataSource, or the EntityManager of the caller's transaction. */
type Db = DataSource | EntityManager;

export interface LiveSession {
  user_id: string;
  current_tenant: string | null;
  is_platform_admin: boolean;
}

/** The session with this hash while it is live and its user's address is proven. */
export async function findLiveSession(db: Db, idHash: string): Promise<LiveSession | undefined> {
  const rows = (await db.query(
    `SELECT s.user_id, s.current_tenant, u.is_platform_admin
       FROM sessions s JOIN users u ON u.id = s.user_id
      WHERE s.id_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now() AND u.email_verified_at IS NOT NULL`,
    [idHash],
  )) as LiveSession[];
  return rows[0];
}

export async function insertSession(db: Db, session: { idHash: string; userId: string; tenantId: string | null; expiresAt: Date }): Promise<void> {
  await db.query('INSERT INTO sessions (id_hash, user_id, current_tenant, expires_at) VALUES ($1, $2, $3, $4)', [
    session.idHash,
    session.userId,
    session.tenantId,
    session.expiresAt,
  ]);
}

export async function revokeSession(db: Db, idHash: string): Promise<void> {
  await db.query('UPDATE sessions SET revoked_at = now() WHERE id_hash = $1', [idHash]);
}

/** Ends every live session of the user; answers how many there were. */
export async function revokeSessionsOfUser(db: Db, userId: string): Promise<number> {
  const revoked = (await db.query('UPDATE sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL', [userId])) as [unknown, number];
  return revoked[1] ?? 0;
}

/** Seconds the account + client address must still wait, or 0. */
export async function loginWaitSeconds(db: Db, email: string, client: string): Promise<number> {
  const [row] = (await db.query(
    'SELECT ceil(extract(epoch FROM blocked_until - now()))::int AS wait FROM login_failures WHERE email = $1 AND client = $2 AND blocked_until > now()',
    [email, client],
  )) as { wait: number }[];
  return row?.wait ?? 0;
}

/**
 * Counts a failure (a day's quiet starts the count afresh) and sets the wait
 * it earns, in one statement: none for the first `freeFailures`, then 30 s
 * doubling up to `maxWaitSeconds`. Answers the count.
 */
export async function countLoginFailure(db: Db, email: string, client: string, freeFailures: number, maxWaitSeconds: number): Promise<number | undefined> {
  const next = "CASE WHEN login_failures.updated_at < now() - interval '1 day' THEN 1 ELSE login_failures.failures + 1 END";
  const [row] = (await db.query(
    `INSERT INTO login_failures (email, client, failures, updated_at) VALUES ($1, $2, 1, now())
     ON CONFLICT (email, client) DO UPDATE SET
       failures = ${next},
       updated_at = now(),
       blocked_until = CASE WHEN ${next} >= $3 THEN now() + least($4::int, 30 * 2 ^ least(${next} - $3, 10)) * interval '1 second' END
     RETURNING failures`,
    [email, client, freeFailures, maxWaitSeconds],
  )) as { failures: number }[];
  return row?.failures;
}

/** Deletes failures a day old whose wait is over. */
export async function deleteStaleLoginFailures(db: Db): Promise<void> {
  await db.query("DELETE FROM login_failures WHERE updated_at < now() - interval '1 day' AND (blocked_until IS NULL OR blocked_until < now())");
}

/** Forgets the failures of an account + client address (it signed in). */
export async function clearLoginFailures(db: Db, email: string, client: string): Promise<void> {
  await db.query('DELETE FROM login_failures WHERE email = $1 AND client = $2', [email, client]);
}
