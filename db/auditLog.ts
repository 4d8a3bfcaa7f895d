// The tenant audit log: who did what, allowed or refused, kept per tenant
// under RLS (docs/security.md). Entries are written in the caller's
// transaction — by the services for requests and by activities for what
// workflows change — and read newest first.
import { type EntityManager } from 'typeorm';
import { AuditEntry, type AuditOutcome } from './entities/AuditEntry';
import { newId } from './ids';
import { keysetEntities, type ListParams } from './pagination';

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

export interface AuditQuery extends ListParams {
  action?: string;
  outcome?: 'success' | 'failure' | 'denied';
  actorUserId?: string;
  since?: string;
  until?: string;
}

/** One page of the tenant's audit log, newest first, with filters. */
export async function listAuditEntries(manager: EntityManager, query: AuditQuery) {
  const qb = manager.getRepository(AuditEntry).createQueryBuilder('a');
  if (query.action) qb.andWhere('a.action = :action', { action: query.action });
  if (query.outcome) qb.andWhere('a.outcome = :outcome', { outcome: query.outcome });
  if (query.actorUserId) qb.andWhere('a.actorUserId = :actor', { actor: query.actorUserId });
  if (query.since) qb.andWhere('a.at >= :since', { since: query.since });
  if (query.until) qb.andWhere('a.at < :until', { until: query.until });
  return keysetEntities(qb, query, 'desc');
}

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
