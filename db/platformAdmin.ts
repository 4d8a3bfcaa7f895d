// The platform admin (spec §5.1: separate from tenant users — no membership).
// Ensured on every start: from PLATFORM_ADMIN_EMAIL / PLATFORM_ADMIN_PASSWORD
// when given (the password is then kept in step with the environment);
// otherwise, the first time, with a generated password returned once so the
// launcher can print it. Nothing stores the plain password.
import { randomBytes } from 'node:crypto';
import { type DataSource } from 'typeorm';
import { hashPassword, verifyPassword } from '../lib/passwords';
import { User } from './entities';
import { newId } from './ids';

export interface EnsuredAdmin {
  email: string;
  created: boolean;
  /** Only when this call generated the password. */
  generatedPassword?: string;
}

export async function ensurePlatformAdmin(dataSource: DataSource, opts: { email: string; password?: string }): Promise<EnsuredAdmin> {
  const users = dataSource.getRepository(User);
  const existing = await users.createQueryBuilder('u').addSelect('u.passwordHash').where('u.email = :email', { email: opts.email }).getOne();
  if (existing) {
    const updates: Partial<User> = {};
    if (!existing.isPlatformAdmin) updates.isPlatformAdmin = true;
    if (opts.password && !(await verifyPassword(existing.passwordHash, opts.password))) updates.passwordHash = await hashPassword(opts.password);
    if (Object.keys(updates).length) await users.update({ id: existing.id }, updates);
    return { email: opts.email, created: false };
  }
  const generatedPassword = opts.password ? undefined : randomBytes(15).toString('base64url');
  await users.insert({
    id: newId('usr'),
    email: opts.email,
    name: 'Platform admin',
    passwordHash: await hashPassword(opts.password ?? generatedPassword!),
    isPlatformAdmin: true,
  });
  return { email: opts.email, created: true, generatedPassword };
}
