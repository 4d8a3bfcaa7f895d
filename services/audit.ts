// The tenant audit log (spec §5.1): writing it, and reading it newest first. Inside a request, entries join the
// request's transaction; denials and failed logins are written in their own
// transaction, because the request's work is rolled back.
import { type DataSource } from 'typeorm';
import { audit, type AuditInput } from '../db/auditLog';
import { AuditEntry } from '../db/entities/AuditEntry';
import { keysetEntities, type ListParams } from '../db/pagination';
import { withTenant } from '../db/tenantContext';
import { type TenantAccess } from './context';

export { audit, type AuditInput };

export function auditInOwnTransaction(dataSource: DataSource, tenantId: string, entry: AuditInput): Promise<void> {
  return withTenant(dataSource, tenantId, (manager) => audit(manager, entry));
}

/** An entry by the caller of `a`, in its transaction (actor and request filled in). */
export function auditBy(a: TenantAccess, entry: Omit<AuditInput, 'actorUserId' | 'actorTokenId' | 'requestId'>): Promise<void> {
  return audit(a.manager, { ...entry, actorUserId: a.userId, actorTokenId: a.tokenId, requestId: a.requestId });
}

export interface AuditQuery extends ListParams {
  action?: string;
  outcome?: 'success' | 'failure' | 'denied';
  actorUserId?: string;
  since?: string;
  until?: string;
}

/** The tenant's audit log, newest first, with filters. */
export async function readAuditLog(a: TenantAccess, query: AuditQuery) {
  const qb = a.manager.getRepository(AuditEntry).createQueryBuilder('a');
  if (query.action) qb.andWhere('a.action = :action', { action: query.action });
  if (query.outcome) qb.andWhere('a.outcome = :outcome', { outcome: query.outcome });
  if (query.actorUserId) qb.andWhere('a.actorUserId = :actor', { actor: query.actorUserId });
  if (query.since) qb.andWhere('a.at >= :since', { since: query.since });
  if (query.until) qb.andWhere('a.at < :until', { until: query.until });
  const p = await keysetEntities(qb, query, 'desc');
  return {
    data: p.data.map((e) => ({
      id: e.id,
      at: e.at,
      action: e.action,
      outcome: e.outcome,
      actorUserId: e.actorUserId,
      actorTokenId: e.actorTokenId,
      targetType: e.targetType,
      targetId: e.targetId,
      requestId: e.requestId,
      details: e.details,
    })),
    nextCursor: p.nextCursor,
  };
}
