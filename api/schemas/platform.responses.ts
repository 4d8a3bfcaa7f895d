// What the platform admin's backfill routes answer on success. How these
// schemas are used: api/schemas/common.ts.
import { z } from 'zod';
import { at } from './common';

const backfillState = z.enum(['running', 'paused', 'blocked', 'cancelled', 'failed', 'completed']);
const backfillProgress = z.strictObject({
  name: z.string(),
  runId: z.string(),
  scope: z.enum(['platform', 'tenant']),
  tenantId: z.string().nullable(),
  dryRun: z.boolean(),
  state: backfillState,
  phase: z.enum(['starting', 'backfilling', 'verifying', 'orphans', 'finishing', 'done']),
  rowsDone: z.number().int(),
  rowsEstimated: z.number().int(),
  ratePerSec: z.number(),
  etaSeconds: z.number().nullable(),
  batchSize: z.number().int(),
  lastKey: z.string().nullable(),
  batches: z.number().int(),
  failures: z.number().int(),
  orphans: z.number().int(),
  pass: z.number().int(),
  settings: z.strictObject({
    targetBatchMs: z.number(),
    sleepMs: z.number(),
    minBatch: z.number(),
    maxBatch: z.number(),
    initialBatch: z.number(),
    batchAttempts: z.number(),
    failureThreshold: z.number(),
    parallelism: z.number(),
    ddlLockTimeoutMs: z.number(),
    ddlAttempts: z.number(),
  }),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  error: z.string().nullable(),
  finish: z.array(z.strictObject({ step: z.string(), status: z.enum(['waiting', 'done', 'failed']), attempts: z.number().int() })),
  children: z.array(
    z.strictObject({
      tenantId: z.string(),
      workflowId: z.string(),
      state: z.union([backfillState, z.literal('waiting')]),
      rowsDone: z.number().int(),
      rowsEstimated: z.number().int(),
      failures: z.number().int(),
      orphans: z.number().int(),
      error: z.string().optional(),
    }),
  ),
  activeSeconds: z.number(),
  generation: z.number().int(),
});
const backfillRun = z.strictObject({
  workflowId: z.string(),
  status: z.enum(['never_run', 'running', 'completed', 'failed', 'cancelled', 'terminated', 'timed_out', 'continued_as_new', 'unknown']),
  progress: backfillProgress.nullable(),
});
const backfillFields = {
  name: z.string(),
  title: z.string(),
  description: z.string(),
  scope: z.enum(['platform', 'tenant']),
  table: z.string(),
  column: z.string(),
  run: backfillRun,
};
export const backfillList = z.strictObject({ data: z.array(z.strictObject(backfillFields)) });
export const backfillDetail = z.strictObject({
  ...backfillFields,
  finishSteps: z.number().int(),
  batches: z.array(z.strictObject({ scope: z.string(), size: z.number().int(), rows: z.number().int(), ms: z.number().int(), status: z.string(), at })),
  orphans: z.strictObject({
    total: z.number().int(),
    rows: z.array(z.strictObject({ scope: z.string(), key: z.string(), reason: z.string(), foundAt: at })),
  }),
  ddl: z.array(z.strictObject({ step: z.string(), attempt: z.number().int(), outcome: z.string(), ms: z.number().int(), error: z.string().nullable(), at })),
});
export const backfillStarted = z.strictObject({ name: z.string(), workflowId: z.string(), status: z.literal('running') });
export const backfillSignalled = z.strictObject({ name: z.string(), workflowId: z.string(), signalled: z.enum(['pause', 'resume', 'cancel', 'throttle']) });
