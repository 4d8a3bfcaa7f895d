// The tenant audit log: writing it, and reading it newest first. Inside a request, entries join the
// request's transaction; denials and failed logins are written in their own
// transaction, because the request's work is rolled back.
import { type DataSource } from 'typeorm';
import { audit, listAuditEntries, type AuditInput, type AuditQuery } from '../db/auditLog';
import { withTenant } from '../db/tenantContext';
import { type TenantAccess } from './context';

export { audit, type AuditInput, type AuditQuery };

export function auditInOwnTransaction(dataSource: DataSource, tenantId: string, entry: AuditInput): Promise<void> {
  return withTenant(dataSource, tenantId, (manager) => audit(manager, entry));
}

/** An entry by the caller of `a`, in its transaction (actor and request filled in). */
export function auditBy(a: TenantAccess, entry: Omit<AuditInput, 'actorUserId' | 'actorTokenId' | 'requestId'>): Promise<void> {
  return audit(a.manager, { ...entry, actorUserId: a.userId, actorTokenId: a.tokenId, requestId: a.requestId });
}

/** The tenant's audit log, newest first, with filters. */
export async function readAuditLog(a: TenantAccess, query: AuditQuery) {
  const p = await listAuditEntries(a.manager, query);
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
