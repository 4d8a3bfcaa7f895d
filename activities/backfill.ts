// The backfill engine (spec §5.6): runs any definition of
// migrations/backfills in key-ordered batches, each its own short transaction
// under `lock_timeout` and a statement deadline that keeps its locks under
// twice the target batch time.
// It runs only in the backfill worker, which holds the owner connection the
// finishing DDL needs; a tenant-scoped run sets `app.tenant_id`, so even the
// owner role reaches that tenant's rows only (FORCE RLS).
//
// Exactly once: every applied batch is recorded (run, scope, first key) in the
// transaction that applies it, and the record is unique. A slice heartbeats
// its last key after each batch; a retried slice (its worker was killed)
// resumes from the heartbeat, and a batch whose record exists is skipped, so a
// row is never updated twice even when the last heartbeat was behind.
import { activityInfo, heartbeat, sleep } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { type Pool, type PoolClient } from 'pg';
import { findBackfill, finishStepName, type BackfillDefinition, type FinishStep, type Sql } from '../migrations/backfills';
import { APP_ROLE } from '../db/roles';
import { TENANT_PREDICATE } from '../migrations/lib/rls';
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

type Attempt =
  | { kind: 'applied'; rows: number; ms: number }
  | { kind: 'recorded'; lastKey: string; rows: number }
  | { kind: 'timeout'; ms: number; error: string }
  | { kind: 'error'; ms: number; error: string };

const TIMEOUT_CODES = new Set(['57014', '55P03']); // statement timeout, lock not available
const IDENT = /^[a-z_][a-z0-9_]*$/;

function ident(name: string): string {
  if (!IDENT.test(name)) throw new Error(`unsafe identifier: ${name}`);
  return name;
}

function definition(name: string): BackfillDefinition {
  const def = findBackfill(name);
  if (!def) throw ApplicationFailure.nonRetryable(`no backfill is named ${name}`, BACKFILL_UNKNOWN);
  return def;
}

const sqlOf =
  (c: PoolClient): Sql =>
  (text, params) =>
    c.query(text, params) as Promise<{ rows: Record<string, unknown>[]; rowCount: number | null }>;

const scopeOf = (tenantId?: string) => tenantId ?? 'platform';

export function createBackfillActivities(deps: BackfillActivityDeps) {
  function pool(): Pool {
    if (!deps.backfillPool)
      throw ApplicationFailure.nonRetryable('this worker has no owner connection: backfills run in the backfill worker', BACKFILL_WORKER_ONLY);
    return deps.backfillPool;
  }

  /** Runs `fn` in one transaction, scoped to the tenant (RLS) when there is one. */
  async function inTransaction<T>(tenantId: string | undefined, fn: (sql: Sql, c: PoolClient) => Promise<T>): Promise<T> {
    const c = await pool().connect();
    try {
      await c.query('BEGIN');
      if (tenantId) await c.query("SELECT set_config('app.tenant_id', $1, true)", [tenantId]);
      const result = await fn(sqlOf(c), c);
      await c.query('COMMIT');
      return result;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
  }

  async function record(b: {
    name: string;
    scope: string;
    runId: string;
    firstKey: string | null;
    lastKey: string | null;
    size: number;
    rows: number;
    ms: number;
    status: 'timeout' | 'failed';
    attempt: number;
    error: string;
    startedAt: Date;
  }): Promise<void> {
    await pool().query(
      `INSERT INTO backfill_batches (backfill, scope, run_id, first_key, last_key, size, rows, duration_ms, status, attempt, error, started_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [b.name, b.scope, b.runId, b.firstKey, b.lastKey, b.size, b.rows, Math.round(b.ms), b.status, b.attempt, b.error.slice(0, 500), b.startedAt],
    );
  }

  /**
   * One batch: (afterKey, last key] in one transaction. Every statement's
   * timeout is what is left of 1.75 × the target (the rest is headroom for the
   * round trips between statements), so no batch holds its locks
   * longer than that; the batch record goes in with the update.
   */
  async function attemptBatch(def: BackfillDefinition, input: SliceInput, afterKey: string | null, keys: string[], attempt: number): Promise<Attempt> {
    const scope = scopeOf(input.tenantId);
    const lastKey = keys[keys.length - 1]!;
    const limitMs = 1.75 * input.settings.targetBatchMs;
    const startedAt = new Date();
    const t0 = performance.now();
    const c = await pool().connect();
    const deadline = async () => {
      const left = Math.max(1, Math.floor(limitMs - (performance.now() - t0)));
      await c.query(`SET LOCAL statement_timeout = ${left}`);
    };
    try {
      await c.query('BEGIN');
      await c.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.min(input.settings.targetBatchMs, 1000))}`);
      if (input.tenantId) await c.query("SELECT set_config('app.tenant_id', $1, true)", [input.tenantId]);
      if (!input.dryRun) {
        const done = await c.query(
          "SELECT last_key, rows FROM backfill_batches WHERE run_id = $1 AND scope = $2 AND coalesce(first_key, '') = coalesce($3, '') AND status = 'applied'",
          [input.runId, scope, afterKey],
        );
        if (done.rows[0]) {
          await c.query('ROLLBACK');
          return { kind: 'recorded', lastKey: String(done.rows[0].last_key), rows: Number(done.rows[0].rows) };
        }
      }
      await deadline();
      const rows = await def.update(sqlOf(c), { tenantId: input.tenantId, afterKey, lastKey });
      const ms = performance.now() - t0;
      if (input.dryRun) {
        await c.query('ROLLBACK');
        return { kind: 'applied', rows, ms };
      }
      await deadline();
      await c.query(
        `INSERT INTO backfill_batches (backfill, scope, run_id, first_key, last_key, size, rows, duration_ms, status, attempt, started_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'applied', $9, $10)`,
        [input.name, scope, input.runId, afterKey, lastKey, keys.length, rows, Math.round(ms), attempt, startedAt],
      );
      await c.query('COMMIT');
      return { kind: 'applied', rows, ms: performance.now() - t0 };
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      const ms = performance.now() - t0;
      const code = (err as { code?: string }).code;
      const error = (err as Error).message;
      return code && TIMEOUT_CODES.has(code) ? { kind: 'timeout', ms, error } : { kind: 'error', ms, error };
    } finally {
      c.release();
    }
  }

  async function selectKeys(def: BackfillDefinition, tenantId: string | undefined, afterKey: string | null, size: number): Promise<string[]> {
    return inTransaction(tenantId, (sql) => def.batch(sql, { tenantId, afterKey, size }));
  }

  return {
    /** What the workflow needs to know of a definition (it cannot import the definitions: they hold SQL). */
    async describeBackfill(input: { name: string }): Promise<{ scope: 'platform' | 'tenant'; finish: string[] }> {
      const def = definition(input.name);
      return { scope: def.scope, finish: def.finish.map(finishStepName) };
    },

    /** The tenants a tenant-scoped backfill runs over: every tenant whose rows may exist. */
    async backfillTenants(): Promise<string[]> {
      const r = await pool().query("SELECT id FROM tenants WHERE status <> 'failed' ORDER BY created_at, id");
      return r.rows.map((row: { id: string }) => row.id);
    },

    async estimateBackfill(input: { name: string; tenantId?: string }): Promise<number> {
      const def = definition(input.name);
      return inTransaction(input.tenantId, (sql) => def.estimate(sql, { tenantId: input.tenantId }));
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
      const started = performance.now();
      const budget = input.budgetMs ?? 2_000;
      let lastError: string | null = null;
      let done = false;

      /** Applies (after, keys] with retries, then split in halves; a timeout returns early for a smaller batch. */
      const apply = async (after: string | null, keys: string[]): Promise<void> => {
        for (let attempt = 1; attempt <= s.batchAttempts; attempt++) {
          const r = await attemptBatch(def, input, after, keys, attempt);
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
          await record({
            name: input.name,
            scope: scopeOf(input.tenantId),
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
        const keys = await selectKeys(def, input.tenantId, st.afterKey, st.batchSize);
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
      const scope = scopeOf(input.tenantId);
      const { remaining, orphans } = await inTransaction(input.tenantId, async (sql) => ({
        remaining: await def.remaining(sql, { tenantId: input.tenantId }),
        orphans: await def.orphans(sql, { tenantId: input.tenantId, limit: 10_000 }),
      }));
      await pool().query('DELETE FROM backfill_orphans WHERE backfill = $1 AND scope = $2 AND NOT (row_key = ANY($3))', [
        input.name,
        scope,
        orphans.map((o) => o.key),
      ]);
      if (orphans.length > 0) {
        await pool().query(
          `INSERT INTO backfill_orphans (backfill, scope, row_key, reason)
           SELECT $1, $2, k, r FROM unnest($3::text[], $4::text[]) AS o(k, r)
           ON CONFLICT (backfill, scope, row_key) DO UPDATE SET reason = EXCLUDED.reason`,
          [input.name, scope, orphans.map((o) => o.key), orphans.map((o) => o.reason)],
        );
      }
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
      const stepName = finishStepName(step);
      const c = await pool().connect();
      let attempts = 0;
      try {
        await c.query('SET statement_timeout = 0');
        const one = async (part: string, text: string, check: () => Promise<boolean>): Promise<void> => {
          if (await check()) {
            await logDdl(c, input, `${stepName}/${part}`, 0, 'already_done', 0, null);
            return;
          }
          for (let attempt = 1; ; attempt++) {
            attempts += 1;
            const t0 = performance.now();
            try {
              await c.query(`SET lock_timeout = ${Math.max(1, Math.floor(input.lockTimeoutMs))}`);
              await c.query(text);
              await logDdl(c, input, `${stepName}/${part}`, attempt, 'done', performance.now() - t0, null);
              return;
            } catch (err) {
              const code = (err as { code?: string }).code;
              const ms = performance.now() - t0;
              if (code === '55P03' && attempt < input.attempts) {
                await logDdl(c, input, `${stepName}/${part}`, attempt, 'lock_timeout', ms, (err as Error).message);
                heartbeat({ step: stepName, attempt });
                await sleep(Math.min(2_000, 100 * attempt));
                continue;
              }
              await logDdl(c, input, `${stepName}/${part}`, attempt, code === '55P03' ? 'lock_timeout' : 'error', ms, (err as Error).message);
              if (code === '55P03')
                throw ApplicationFailure.retryable(`${stepName}: no lock within ${input.lockTimeoutMs} ms after ${attempt} attempts`, DDL_LOCK_TIMEOUT);
              throw ApplicationFailure.nonRetryable(`${stepName}: ${(err as Error).message}`, DDL_FAILED);
            } finally {
              await c.query('RESET lock_timeout');
            }
          }
        };
        const q = async (text: string, params?: unknown[]) => (await c.query(text, params)).rows as Record<string, unknown>[];
        await runStep(def, step, one, q);
      } finally {
        c.release();
      }
      return { attempts };
    },
  };
}

async function logDdl(
  c: PoolClient,
  input: { name: string; runId: string },
  step: string,
  attempt: number,
  outcome: 'done' | 'already_done' | 'lock_timeout' | 'error',
  ms: number,
  error: string | null,
): Promise<void> {
  await c.query('INSERT INTO backfill_ddl (backfill, run_id, step, attempt, outcome, duration_ms, error) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
    input.name,
    input.runId,
    step,
    attempt,
    outcome,
    Math.round(ms),
    error?.slice(0, 500) ?? null,
  ]);
}

type RunDdl = (part: string, text: string, alreadyDone: () => Promise<boolean>) => Promise<void>;
type Query = (text: string, params?: unknown[]) => Promise<Record<string, unknown>[]>;

/** The DDL of one finishing step, each statement skipped when the catalog says it is done (so a retried step goes on where it stopped). */
async function runStep(def: BackfillDefinition, step: FinishStep, ddl: RunDdl, q: Query): Promise<void> {
  const table = ident(def.table);
  const constraint = async (name: string) =>
    (await q('SELECT convalidated FROM pg_constraint WHERE conrelid = $1::regclass AND conname = $2', [table, name]))[0] as
      { convalidated: boolean } | undefined;
  switch (step.kind) {
    case 'not_null': {
      const column = ident(step.column);
      const check = ident(`${table}_${column}_not_null`.slice(0, 63));
      const notNull = async () =>
        Boolean((await q('SELECT attnotnull FROM pg_attribute WHERE attrelid = $1::regclass AND attname = $2', [table, column]))[0]?.attnotnull);
      const isNotNull = await notNull();
      await ddl(
        'add_check',
        `ALTER TABLE ${table} ADD CONSTRAINT ${check} CHECK (${column} IS NOT NULL) NOT VALID`,
        async () => isNotNull || Boolean(await constraint(check)),
      );
      await ddl(
        'validate_check',
        `ALTER TABLE ${table} VALIDATE CONSTRAINT ${check}`,
        async () => isNotNull || Boolean((await constraint(check))?.convalidated),
      );
      // With a valid CHECK (col IS NOT NULL), PostgreSQL sets NOT NULL without scanning the table.
      await ddl('set_not_null', `ALTER TABLE ${table} ALTER COLUMN ${column} SET NOT NULL`, notNull);
      await ddl('drop_check', `ALTER TABLE ${table} DROP CONSTRAINT ${check}`, async () => !(await constraint(check)));
      return;
    }
    case 'foreign_key': {
      const name = ident(step.name);
      const cols = step.columns.map(ident).join(', ');
      const ref = `${ident(step.references.table)} (${step.references.columns.map(ident).join(', ')})`;
      await ddl('add', `ALTER TABLE ${table} ADD CONSTRAINT ${name} FOREIGN KEY (${cols}) REFERENCES ${ref} NOT VALID`, async () =>
        Boolean(await constraint(name)),
      );
      await ddl('validate', `ALTER TABLE ${table} VALIDATE CONSTRAINT ${name}`, async () => Boolean((await constraint(name))?.convalidated));
      return;
    }
    case 'index': {
      const name = ident(step.name);
      const index = async () =>
        (
          await q(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = $1 AND c.relnamespace = 'public'::regnamespace",
            [name],
          )
        )[0] as { indisvalid: boolean } | undefined;
      // A CONCURRENTLY build that gave up leaves an invalid index behind: drop it and build again.
      await ddl('drop_invalid', `DROP INDEX CONCURRENTLY IF EXISTS ${name}`, async () => (await index())?.indisvalid !== false);
      await ddl(
        'create',
        `CREATE ${step.unique ? 'UNIQUE ' : ''}INDEX CONCURRENTLY ${name} ON ${table} (${step.columns.map(ident).join(', ')})`,
        async () => (await index())?.indisvalid === true,
      );
      return;
    }
    case 'row_level_security': {
      for (const t of step.tables.map(ident)) {
        const flags = async () =>
          (await q('SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = $1::regclass', [t]))[0] as {
            relrowsecurity: boolean;
            relforcerowsecurity: boolean;
          };
        const policy = async () => (await q("SELECT 1 FROM pg_policies WHERE tablename = $1 AND policyname = 'tenant_isolation'", [t])).length > 0;
        await ddl(`${t}/policy`, `CREATE POLICY tenant_isolation ON ${t} USING (${TENANT_PREDICATE}) WITH CHECK (${TENANT_PREDICATE})`, policy);
        await ddl(`${t}/enable`, `ALTER TABLE ${t} ENABLE ROW LEVEL SECURITY`, async () => (await flags()).relrowsecurity);
        await ddl(`${t}/force`, `ALTER TABLE ${t} FORCE ROW LEVEL SECURITY`, async () => (await flags()).relforcerowsecurity);
        await ddl(`${t}/grant`, `GRANT SELECT, INSERT, UPDATE, DELETE ON ${t} TO ${APP_ROLE}`, async () =>
          Boolean((await q("SELECT has_table_privilege($1, $2::regclass, 'DELETE') AS ok", [APP_ROLE, t]))[0]?.ok),
        );
      }
      return;
    }
  }
}
