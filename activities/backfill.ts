// The backfill engine (docs/operations.md, "Backfills"): runs any definition
// of migrations/backfills in key-ordered batches, each its own short
// transaction (db/backfills.ts) under `lock_timeout` and a statement deadline
// that keeps its locks under twice the target batch time. It runs only in the
// backfill worker, which holds the owner connection the finishing DDL needs.
//
// Exactly once: every applied batch is recorded (run, scope, first key) in the
// transaction that applies it, and the record is unique. A slice heartbeats
// its last key after each batch; a retried slice (its worker was killed)
// resumes from the heartbeat, and a batch whose record exists is skipped, so a
// row is never updated twice even when the last heartbeat was behind.
import { activityInfo, heartbeat, sleep } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { type Pool } from 'pg';
import {
  applyBackfillBatch,
  backfillScope,
  estimateBackfillRows,
  FinishStepError,
  recordBackfillOrphans,
  recordFailedBatch,
  runFinishStepDdl,
  selectBackfillKeys,
  verifyBackfillRows,
} from '../db/backfills';
import { backfillTenantIds } from '../db/tenants';
import { findBackfill, finishStepName, type BackfillDefinition } from '../migrations/backfills';
import { halvedBatchSize, nextBatchSize } from '../workflows/backfill.rules';
import {
  BACKFILL_STEP_UNKNOWN,
  BACKFILL_UNKNOWN,
  BACKFILL_WORKER_ONLY,
  type BackfillSettings,
  DDL_FAILED,
  DDL_LOCK_TIMEOUT,
} from '../workflows/backfill.contract';

export interface BackfillActivityDeps {
  /** Owner-role pool: only the backfill worker has one. */
  backfillPool?: Pool;
}

export interface SliceInput {
  name: string;
  tenantId?: string;
  runId: string;
  afterKey: string | null;
  batchSize: number;
  failures: number;
  settings: BackfillSettings;
  dryRun?: boolean;
  /** How long one slice runs before it reports back to the workflow (pause and cancel apply between slices). */
  budgetMs?: number;
}

/** What a slice heartbeats after each batch (and resumes from). */
interface SliceHeartbeat {
  afterKey: string | null;
  batchSize: number;
  rowsDone: number;
  batches: number;
  timeouts: number;
  failures: number;
}

export interface SliceResult extends SliceHeartbeat {
  done: boolean;
  ms: number;
  lastError: string | null;
}

function definition(name: string): BackfillDefinition {
  const def = findBackfill(name);
  if (!def) throw ApplicationFailure.nonRetryable(`no backfill is named ${name}`, BACKFILL_UNKNOWN);
  return def;
}

export function createBackfillActivities(deps: BackfillActivityDeps) {
  function pool(): Pool {
    if (!deps.backfillPool)
      throw ApplicationFailure.nonRetryable('this worker has no owner connection: backfills run in the backfill worker', BACKFILL_WORKER_ONLY);
    return deps.backfillPool;
  }

  return {
    /** What the workflow needs to know of a definition (it cannot import the definitions: they hold SQL). */
    async describeBackfill(input: { name: string }): Promise<{ scope: 'platform' | 'tenant'; finish: string[] }> {
      const def = definition(input.name);
      return { scope: def.scope, finish: def.finish.map(finishStepName) };
    },

    /** The tenants a tenant-scoped backfill runs over: every tenant whose rows may exist. */
    async backfillTenants(): Promise<string[]> {
      return backfillTenantIds(pool());
    },

    async estimateBackfill(input: { name: string; tenantId?: string }): Promise<number> {
      const def = definition(input.name);
      return estimateBackfillRows(pool(), def, input.tenantId);
    },

    /**
     * Runs batches for about `budgetMs`, heartbeating the last key after each.
     * A timed-out batch halves the size and runs again; a failing one is
     * retried, then split in halves down to single rows; a row that still
     * fails is recorded and counted, and the slice stops once failures pass
     * the threshold.
     */
    async runBackfillSlice(input: SliceInput): Promise<SliceResult> {
      const def = definition(input.name);
      const s = input.settings;
      const resumed = activityInfo().heartbeatDetails as SliceHeartbeat | undefined;
      const st: SliceHeartbeat = resumed ?? {
        afterKey: input.afterKey,
        batchSize: input.batchSize,
        rowsDone: 0,
        batches: 0,
        timeouts: 0,
        failures: input.failures,
      };
      const batchRun = { name: input.name, tenantId: input.tenantId, runId: input.runId, dryRun: input.dryRun, targetBatchMs: s.targetBatchMs };
      const started = performance.now();
      const budget = input.budgetMs ?? 2_000;
      let lastError: string | null = null;
      let done = false;

      /** Applies (after, keys] with retries, then split in halves; a timeout returns early for a smaller batch. */
      const apply = async (after: string | null, keys: string[]): Promise<void> => {
        for (let attempt = 1; attempt <= s.batchAttempts; attempt++) {
          const r = await applyBackfillBatch(pool(), def, batchRun, after, keys, attempt);
          if (r.kind === 'applied') {
            st.rowsDone += r.rows;
            st.batches += 1;
            st.afterKey = keys[keys.length - 1]!;
            st.batchSize = nextBatchSize(st.batchSize, r.ms, s);
            return;
          }
          if (r.kind === 'recorded') {
            // Applied by an attempt whose last heartbeat was lost: counted now, not applied again.
            st.rowsDone += r.rows;
            st.batches += 1;
            st.afterKey = r.lastKey;
            return;
          }
          lastError = r.error;
          await recordFailedBatch(pool(), {
            name: input.name,
            scope: backfillScope(input.tenantId),
            runId: input.runId,
            firstKey: after,
            lastKey: keys[keys.length - 1]!,
            size: keys.length,
            rows: 0,
            ms: r.ms,
            status: r.kind === 'timeout' ? 'timeout' : 'failed',
            attempt,
            error: r.error,
            startedAt: new Date(),
          });
          if (r.kind === 'timeout') {
            st.timeouts += 1;
            st.batchSize = halvedBatchSize(st.batchSize, s.minBatch);
            // Too big for the target: the caller takes a smaller batch from the same key.
            if (keys.length > s.minBatch) return;
          }
          heartbeat(st);
        }
        if (keys.length === 1) {
          // One row that keeps failing: counted and passed over; verification will see it.
          st.failures += 1;
          st.afterKey = keys[0]!;
          return;
        }
        const mid = Math.ceil(keys.length / 2);
        await apply(after, keys.slice(0, mid));
        if (st.failures > s.failureThreshold) return;
        await apply(keys[mid - 1]!, keys.slice(mid));
      };

      while (performance.now() - started < budget && st.failures <= s.failureThreshold) {
        const keys = await selectBackfillKeys(pool(), def, input.tenantId, st.afterKey, st.batchSize);
        if (keys.length === 0) {
          done = true;
          break;
        }
        const before = st.afterKey;
        await apply(st.afterKey, keys);
        heartbeat(st);
        if (s.sleepMs > 0 && st.afterKey !== before) await sleep(s.sleepMs);
      }
      return { ...st, done, ms: performance.now() - started, lastError };
    },

    /** Rows still to do; the ones that cannot be derived go to the orphan report (and resolved ones leave it). */
    async verifyBackfill(input: { name: string; tenantId?: string }): Promise<{ remaining: number; orphans: number }> {
      const def = definition(input.name);
      const { remaining, orphans } = await verifyBackfillRows(pool(), def, input.tenantId);
      await recordBackfillOrphans(pool(), input.name, backfillScope(input.tenantId), orphans);
      return { remaining, orphans: orphans.length };
    },

    /**
     * One finishing step. Each DDL statement runs on its own under
     * `lock_timeout`: one that cannot get its lock in time gives up (writers
     * queued behind it go on) and is tried again after a pause. Every attempt
     * is recorded in backfill_ddl.
     */
    async runFinishStep(input: { name: string; runId: string; step: number; lockTimeoutMs: number; attempts: number }): Promise<{ attempts: number }> {
      const def = definition(input.name);
      const step = def.finish[input.step];
      if (!step) throw ApplicationFailure.nonRetryable(`backfill ${input.name} has no finishing step ${input.step}`, BACKFILL_STEP_UNKNOWN);
      try {
        const attempts = await runFinishStepDdl(pool(), def, step, input, async (stepName, attempt) => {
          heartbeat({ step: stepName, attempt });
          await sleep(Math.min(2_000, 100 * attempt));
        });
        return { attempts };
      } catch (err) {
        if (!(err instanceof FinishStepError)) throw err;
        if (err.lockTimeout) throw ApplicationFailure.retryable(err.message, DDL_LOCK_TIMEOUT);
        throw ApplicationFailure.nonRetryable(err.message, DDL_FAILED);
      }
    },
  };
}
