// Writing the tenant audit log (spec §5.1). Inside a request, entries join the
// request's transaction; denials and failed logins are written in their own
// transaction, because the request's work is rolled back.
import { type DataSource, type EntityManager } from 'typeorm';
import { AuditEntry, type AuditOutcome } from '../db/entities/AuditEntry';
import { newId } from '../db/ids';
import { withTenant } from '../db/tenantContext';
import { type TenantAccess } from './context';

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

export function auditInOwnTransaction(dataSource: DataSource, tenantId: string, entry: AuditInput): Promise<void> {
  return withTenant(dataSource, tenantId, (manager) => audit(manager, entry));
}

/** An entry by the caller of `a`, in its transaction (actor and request filled in). */
export function auditBy(a: TenantAccess, entry: Omit<AuditInput, 'actorUserId' | 'actorTokenId' | 'requestId'>): Promise<void> {
  return audit(a.manager, { ...entry, actorUserId: a.userId, actorTokenId: a.tokenId, requestId: a.requestId });
}
