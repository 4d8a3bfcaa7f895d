// One line of a tenant's audit log. The application role may insert and read,
// never update or delete (the migration revokes those).
import { Column, Entity } from 'typeorm';
import { TenantKeyed } from './TenantKeyed';

export type AuditOutcome = 'success' | 'failure' | 'denied';

@Entity({ name: 'audit_log' })
export class AuditEntry extends TenantKeyed {
  @Column('timestamptz', { default: () => 'now()' })
  at: Date;

  @Column('text')
  action: string;

  @Column('text')
  outcome: AuditOutcome;

  @Column('text', { name: 'actor_user_id', nullable: true })
  actorUserId: string | null;

  @Column('text', { name: 'actor_token_id', nullable: true })
  actorTokenId: string | null;

  @Column('text', { name: 'target_type', nullable: true })
  targetType: string | null;

  @Column('text', { name: 'target_id', nullable: true })
  targetId: string | null;

  @Column('text', { name: 'request_id', nullable: true })
  requestId: string | null;

  @Column('jsonb', { default: () => "'{}'::jsonb" })
  details: Record<string, unknown>;
}
