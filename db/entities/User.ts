// A person who signs in. Users are platform-wide (one person may belong to
// several tenants through memberships); platform admins have no membership.
import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

@Entity({ name: 'users' })
export class User {
  @PrimaryColumn('text')
  id: string;

  @Column('text')
  email: string;

  @Column('text')
  name: string;

  @Column('text', { name: 'password_hash', nullable: true, select: false })
  passwordHash: string | null;

  @Column('boolean', { name: 'is_platform_admin', default: false })
  isPlatformAdmin: boolean;

  @Column('integer', { name: 'failed_logins', default: 0 })
  failedLogins: number;

  @Column('timestamptz', { name: 'locked_until', nullable: true })
  lockedUntil: Date | null;

  /** The tenant the user last switched to: sign-in lands there while they still belong to it. */
  @Column('uuid', { name: 'last_tenant_id', nullable: true })
  lastTenantId: string | null;

  /** When the address was proven (a mailed link followed) or vouched for by the operator; null: unverified, cannot sign in. */
  @Column('timestamptz', { name: 'email_verified_at', nullable: true })
  emailVerifiedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
