// Writing one audit entry (spec §5.1) in the caller's transaction: used by the
// services for requests and by activities for what workflows change.
import { type EntityManager } from 'typeorm';
import { AuditEntry, type AuditOutcome } from './entities/AuditEntry';
import { newId } from './ids';

export interface AuditInput {
  action: string;
  outcome: AuditOutcome;
  actorUserId?: string | null;
  actorTokenId?: string | null;
  targetType?: string;
  targetId?: string;
  requestId?: string;
  details?: Record<string, unknown>;
}

export async function audit(manager: EntityManager, entry: AuditInput): Promise<void> {
  await manager.getRepository(AuditEntry).insert({
    id: newId('aud'),
    action: entry.action,
    outcome: entry.outcome,
    actorUserId: entry.actorUserId ?? null,
    actorTokenId: entry.actorTokenId ?? null,
    targetType: entry.targetType ?? null,
    targetId: entry.targetId ?? null,
    requestId: entry.requestId ?? null,
    // jsonb: TypeORM's deep-partial insert type cannot express Record<string, unknown>.
    details: (entry.details ?? {}) as never,
  });
}
