// People who sign in. Users are platform-wide (one person may belong to
// several tenants through memberships; a platform admin belongs to none), so
// these statements run in whichever transaction the caller holds — a tenant's,
// a user's (withUser) or none. The password hash is read only where a
// password is checked.
import { type DataSource, type EntityManager } from 'typeorm';
import { User } from './entities';

/** A DataSource, or the EntityManager of the caller's transaction. */
type Db = DataSource | EntityManager;

/** The account with this address, if any. */
export async function findUserIdByEmail(m: EntityManager, email: string): Promise<{ id: string } | undefined> {
  const [user] = (await m.query('SELECT id FROM users WHERE email = $1', [email])) as { id: string }[];
  return user;
}

/** An account without a password (an invitee's); a concurrent one for the same address wins. */
export async function insertUserIfAbsent(m: EntityManager, user: { id: string; email: string; name: string }): Promise<void> {
  await m.query('INSERT INTO users (id, email, name) VALUES ($1, $2, $3) ON CONFLICT (email) DO NOTHING', [user.id, user.email, user.name]);
}

/** Whoever followed a link mailed to the address owns it: their password, and the address proven. */
export async function setPasswordAndVerify(m: EntityManager, userId: string, passwordHash: string): Promise<void> {
  await m.query('UPDATE users SET password_hash = $2, email_verified_at = now(), updated_at = now() WHERE id = $1', [userId, passwordHash]);
}

/** A tenant user's account whose address was never proven. */
export async function findUnverifiedUserByEmail(db: Db, email: string): Promise<{ id: string } | undefined> {
  const [user] = (await db.query('SELECT id FROM users WHERE email = $1 AND email_verified_at IS NULL AND NOT is_platform_admin', [email])) as {
    id: string;
  }[];
  return user;
}

/** The user's display name, if the user exists. */
export async function userName(m: EntityManager, userId: string): Promise<string | undefined> {
  return ((await m.query('SELECT name FROM users WHERE id = $1', [userId])) as { name: string }[])[0]?.name;
}

/** The user, or an error when there is none. */
export function getUser(db: Db, userId: string): Promise<User> {
  return db.getRepository(User).findOneByOrFail({ id: userId });
}

/** The account with this address, with its password hash (otherwise never selected). */
export function findUserWithPassword(db: Db, email: string): Promise<User | null> {
  return db.getRepository(User).createQueryBuilder('u').addSelect('u.passwordHash').where('u.email = :email', { email }).getOne();
}

/** Changes columns of one user. */
export async function updateUser(db: Db, userId: string, changes: Partial<User>): Promise<void> {
  await db.getRepository(User).update({ id: userId }, changes);
}

/** Inserts a user from its entity's fields. */
export async function insertUser(db: Db, user: Partial<User> & Pick<User, 'id' | 'email' | 'name'>): Promise<void> {
  await db.getRepository(User).insert(user);
}

/** What provisioning needs to know about the owner's address: an account, and whether it is the platform admin's. */
export async function findOwnerCandidate(
  m: EntityManager,
  email: string,
): Promise<{ id: string; is_platform_admin: boolean; has_password: boolean } | undefined> {
  const [existing] = (await m.query('SELECT id, is_platform_admin, password_hash IS NOT NULL AS has_password FROM users WHERE email = $1', [email])) as {
    id: string;
    is_platform_admin: boolean;
    has_password: boolean;
  }[];
  return existing;
}

/**
 * The owner provisioning creates: the registration's password hash (none: the
 * owner chooses one through a link), the address proven when `verified`.
 */
export async function insertOwnerUser(
  m: EntityManager,
  owner: { id: string; email: string; name: string; passwordHash: string | null; verified: boolean },
): Promise<void> {
  await m.query(`INSERT INTO users (id, email, name, password_hash, email_verified_at) VALUES ($1, $2, $3, $4, CASE WHEN $5::boolean THEN now() END)`, [
    owner.id,
    owner.email,
    owner.name,
    owner.passwordHash,
    owner.verified,
  ]);
}

/** Deletes a tenant user (never the platform admin). */
export async function deleteTenantUser(m: EntityManager, userId: string): Promise<void> {
  await m.query('DELETE FROM users WHERE id = $1 AND NOT is_platform_admin', [userId]);
}
