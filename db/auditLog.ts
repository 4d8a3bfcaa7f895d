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

// — used by billing —

/** One entry of the platform's own audit about a backfill (a start or a control), outside any tenant. */
export async function insertBackfillAudit(
  ds: Pick<EntityManager, 'query'>,
  entry: { action: string; actorUserId: string | null; backfill: string; requestId: string | null; details: Record<string, unknown> },
): Promise<void> {
  await ds.query(
    `INSERT INTO platform_audit_log (id, action, actor_user_id, target_type, target_id, request_id, details) VALUES ($1, $2, $3, 'backfill', $4, $5, $6::jsonb)`,
    [newId('aud'), entry.action, entry.actorUserId, entry.backfill, entry.requestId, JSON.stringify(entry.details)],
  );
}
