// An API token: scoped to one tenant and one role, stored as a SHA-256 hash
// (the secret is shown once), revocable.
import { Column, CreateDateColumn, Entity } from 'typeorm';
import { TenantKeyed } from './TenantKeyed';

@Entity({ name: 'api_tokens' })
export class ApiToken extends TenantKeyed {
  @Column('text')
  name: string;

  @Column('text', { name: 'token_hash', select: false })
  tokenHash: string;

  @Column('text')
  prefix: string;

  @Column('text', { name: 'role_id' })
  roleId: string;

  /** The issuer's customer restriction, inherited by the token (null: every customer). */
  @Column('text', { name: 'customer_id', nullable: true })
  customerId: string | null;

  @Column('text', { name: 'created_by', nullable: true })
  createdBy: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column('timestamptz', { name: 'last_used_at', nullable: true })
  lastUsedAt: Date | null;

  @Column('timestamptz', { name: 'revoked_at', nullable: true })
  revokedAt: Date | null;
}
