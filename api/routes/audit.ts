// GET /api/audit: the tenant's audit log, newest first, with filters.
import { z } from 'zod';
import { AuditEntry } from '../../db/entities';
import { access } from '../access';
import { decodeCursor, page } from '../../db/pagination';
import { listQuery, MAX_LIMIT } from '../pagination';
import { type Routes } from '../routing';
import * as R from '../schemas/responses';

/** An ISO instant PostgreSQL can hold (it has no year 0). */
const instant = z.iso.datetime().refine((s) => !s.startsWith('0000'), { message: 'year 0001 or later' });

const auditQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(MAX_LIMIT).default(50),
    cursor: listQuery.shape.cursor,
    action: z.string().regex(/^[a-z_]{1,60}$/).optional(),
    outcome: z.enum(['success', 'failure', 'denied']).optional(),
    actorUserId: z.string().regex(/^usr_[0-9a-z]{26}$/).optional(),
    since: instant.optional(),
    until: instant.optional(),
  })
  .strict();

export function auditRoutes(r: Routes) {
  r.add({ method: 'get', path: '/api/audit', response: R.auditList, summary: 'Read the audit log (newest first)', tag: 'audit', auth: 'tenant', permission: 'audit.read', query: auditQuery }, async ({ ctx, query }) => {
    const qb = access(ctx).manager.getRepository(AuditEntry).createQueryBuilder('a').orderBy('a.id', 'DESC').limit(query.limit + 1);
    const before = decodeCursor(query.cursor);
    if (before) qb.andWhere('a.id < :before', { before });
    if (query.action) qb.andWhere('a.action = :action', { action: query.action });
    if (query.outcome) qb.andWhere('a.outcome = :outcome', { outcome: query.outcome });
    if (query.actorUserId) qb.andWhere('a.actorUserId = :actor', { actor: query.actorUserId });
    if (query.since) qb.andWhere('a.at >= :since', { since: query.since });
    if (query.until) qb.andWhere('a.at < :until', { until: query.until });
    const p = page(await qb.getMany(), query.limit, (e) => e.id);
    ctx.body = {
      data: p.data.map((e) => ({ id: e.id, at: e.at, action: e.action, outcome: e.outcome, actorUserId: e.actorUserId, actorTokenId: e.actorTokenId, targetType: e.targetType, targetId: e.targetId, requestId: e.requestId, details: e.details })),
      nextCursor: p.nextCursor,
    };
  });
}
