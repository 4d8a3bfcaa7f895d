// GET /api/audit: the tenant's audit log, newest first, with filters (services/audit).
import { z } from 'zod';
import { readAuditLog } from '../../services/audit';
import { listQuery, MAX_LIMIT } from '../pagination';
import { type Routes } from '../routing';
import * as R from '../schemas/access.responses';

/** An ISO instant PostgreSQL can hold (it has no year 0). */
const instant = z.iso.datetime().refine((s) => !s.startsWith('0000'), { message: 'year 0001 or later' });

const auditQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(MAX_LIMIT).default(50),
    cursor: listQuery.shape.cursor,
    action: z
      .string()
      .regex(/^[a-z_.]{1,60}$/)
      .optional(),
    outcome: z.enum(['success', 'failure', 'denied']).optional(),
    actorUserId: z
      .string()
      .regex(/^usr_[0-9a-z]{26}$/)
      .optional(),
    since: instant.optional(),
    until: instant.optional(),
  })
  .strict();

export function auditRoutes(r: Routes) {
  r.add(
    {
      method: 'get',
      path: '/api/audit',
      summary: 'Read the audit log (newest first)',
      tag: 'audit',
      auth: 'tenant',
      permission: 'audit.read',
      query: auditQuery,
      response: R.auditList,
    },
    ({ access, query }) => readAuditLog(access, query),
  );
}
