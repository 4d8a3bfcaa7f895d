// Request schemas of the run API (docs/automations.md, "Run API").
import { z } from 'zod';
import { listQuery } from '../pagination';

export const RUN_STATUSES = ['queued', 'running', 'waiting', 'completed', 'failed', 'canceled'] as const;

/** `?status=&limit=&cursor=`: runs newest first, of one status. */
export const runsQuery = listQuery.omit({ q: true }).extend({ status: z.enum(RUN_STATUSES).optional() });

/** The tenant's runs: also of one automation. */
export const allRunsQuery = runsQuery.extend({
  automationId: z
    .string()
    .regex(/^auto_[0-9a-z]{26}$/, 'must be an automation id (auto_…)')
    .optional(),
});
