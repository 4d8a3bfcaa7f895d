// The platform admin: separate from tenant users, with no membership.
// Ensured on every start: from PLATFORM_ADMIN_EMAIL / PLATFORM_ADMIN_PASSWORD
// when given (the password is then kept in step with the environment);
// otherwise, the first time, with a generated password returned once so the
// launcher can print it. Nothing stores the plain password.
//
// The platform admin is a separate identity: an address that already belongs
// to a tenant user (a member, an invitee, a sign-up) is never promoted — that
// user's password, sessions and memberships would carry cross-tenant power —
// and the start is refused with a message that says so.
import { randomBytes } from 'node:crypto';
import { type DataSource } from 'typeorm';
import { hashPassword, verifyPassword } from '../lib/passwords';
import { type User } from './entities';
import { newId } from './ids';
import { belongsToAnyTenant } from './memberships';
import { withUser } from './tenantContext';
import { findUserWithPassword, insertUser, updateUser } from './users';

export interface EnsuredAdmin {
  email: string;
  created: boolean;
  /** Only when this call generated the password. */
  generatedPassword?: string;
}

/** PLATFORM_ADMIN_EMAIL names a tenant user's account. The message names no address (it reaches logs). */
export class PlatformAdminConflict extends Error {
  constructor() {
    super(
      'PLATFORM_ADMIN_EMAIL belongs to a tenant user: the platform admin is a separate identity (docs/security.md, "Identity") and an existing account is never promoted. ' +
        'Set PLATFORM_ADMIN_EMAIL to an address no tenant user has.',
    );
    this.name = 'PlatformAdminConflict';
  }
}

/** Whether the user is a member of any tenant (its own memberships are visible to it across tenants). */
function belongsToTenant(dataSource: DataSource, userId: string): Promise<boolean> {
  return withUser(dataSource, userId, (m) => belongsToAnyTenant(m, userId));
}

export async function ensurePlatformAdmin(dataSource: DataSource, opts: { email: string; password?: string }): Promise<EnsuredAdmin> {
  const existing = await findUserWithPassword(dataSource, opts.email);
  if (existing) {
    if (!existing.isPlatformAdmin) throw new PlatformAdminConflict();
    // An account promoted before this rule still holds its tenant memberships.
    if (await belongsToTenant(dataSource, existing.id)) throw new PlatformAdminConflict();
    const updates: Partial<User> = {};
    // The operator vouches for the address they configured.
    if (!existing.emailVerifiedAt) updates.emailVerifiedAt = new Date();
    if (opts.password && !(await verifyPassword(existing.passwordHash, opts.password))) updates.passwordHash = await hashPassword(opts.password);
    if (Object.keys(updates).length) await updateUser(dataSource, existing.id, updates);
    return { email: opts.email, created: false };
  }
  const generatedPassword = opts.password ? undefined : randomBytes(15).toString('base64url');
  await insertUser(dataSource, {
    id: newId('usr'),
    email: opts.email,
    name: 'Platform admin',
    passwordHash: await hashPassword(opts.password ?? generatedPassword!),
    isPlatformAdmin: true,
    emailVerifiedAt: new Date(),
  });
  return { email: opts.email, created: true, generatedPassword };
}
