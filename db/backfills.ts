// A backfill's statements (docs/operations.md, "Backfills"): the definitions
// of migrations/backfills declare what a batch selects and updates; this
// module runs them — each batch its own short transaction under `lock_timeout`
// and a statement deadline, recorded (run, scope, first key) in the
// transaction that applies it — and the finishing DDL, one statement at a
// time, each attempt recorded. It also reads the batch, orphan and DDL records
// for the operator's view.
//
// Everything here runs on the backfill worker's owner pool (the finishing DDL
// needs the owner); a tenant-scoped run sets `app.tenant_id`, so even the owner
// role reaches that tenant's rows only (FORCE RLS).
import { type Pool, type PoolClient } from 'pg';
import { type DataSource } from 'typeorm';
import { type BackfillDefinition, type FinishStep, finishStepName, type Orphan, type Sql } from '../migrations/backfills';
import { TENANT_PREDICATE } from '../migrations/lib/rls';
import { APP_ROLE } from './databaseRoles';

export type BatchAttempt =
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

const sqlOf =
  (c: PoolClient): Sql =>
  (text, params) =>
    c.query(text, params) as Promise<{ rows: Record<string, unknown>[]; rowCount: number | null }>;

/** The scope a run's records carry: its tenant, or `platform`. */
export const backfillScope = (tenantId?: string) => tenantId ?? 'platform';

/** Runs `fn` in one transaction, scoped to the tenant (RLS) when there is one. */
async function inTransaction<T>(pool: Pool, tenantId: string | undefined, fn: (sql: Sql, c: PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
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

/** The next keys of the definition's batch after `afterKey`, in key order, at most `size`. */
export function selectBackfillKeys(
  pool: Pool,
  def: BackfillDefinition,
  tenantId: string | undefined,
  afterKey: string | null,
  size: number,
): Promise<string[]> {
  return inTransaction(pool, tenantId, (sql) => def.batch(sql, { tenantId, afterKey, size }));
}

/** Rows in scope (the progress bar's 100 %). */
export function estimateBackfillRows(pool: Pool, def: BackfillDefinition, tenantId: string | undefined): Promise<number> {
  return inTransaction(pool, tenantId, (sql) => def.estimate(sql, { tenantId }));
}

/** Rows still to do, and those of them that cannot be derived, read in one transaction. */
export function verifyBackfillRows(pool: Pool, def: BackfillDefinition, tenantId: string | undefined): Promise<{ remaining: number; orphans: Orphan[] }> {
  return inTransaction(pool, tenantId, async (sql) => ({
    remaining: await def.remaining(sql, { tenantId }),
    orphans: await def.orphans(sql, { tenantId, limit: 10_000 }),
  }));
}

/** The orphan report of a scope becomes `orphans`: resolved rows leave it, new ones join it. */
export async function recordBackfillOrphans(pool: Pool, name: string, scope: string, orphans: Orphan[]): Promise<void> {
  await pool.query('DELETE FROM backfill_orphans WHERE backfill = $1 AND scope = $2 AND NOT (row_key = ANY($3))', [name, scope, orphans.map((o) => o.key)]);
  if (orphans.length > 0) {
    await pool.query(
      `INSERT INTO backfill_orphans (backfill, scope, row_key, reason)
           SELECT $1, $2, k, r FROM unnest($3::text[], $4::text[]) AS o(k, r)
           ON CONFLICT (backfill, scope, row_key) DO UPDATE SET reason = EXCLUDED.reason`,
      [name, scope, orphans.map((o) => o.key), orphans.map((o) => o.reason)],
    );
  }
}

export interface FailedBatch {
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
}

/** Records a batch attempt that timed out or failed (an applied one is recorded in its own transaction). */
export async function recordFailedBatch(pool: Pool, b: FailedBatch): Promise<void> {
  await pool.query(
    `INSERT INTO backfill_batches (backfill, scope, run_id, first_key, last_key, size, rows, duration_ms, status, attempt, error, started_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
    [b.name, b.scope, b.runId, b.firstKey, b.lastKey, b.size, b.rows, Math.round(b.ms), b.status, b.attempt, b.error.slice(0, 500), b.startedAt],
  );
}

export interface BatchRun {
  name: string;
  tenantId?: string;
  runId: string;
  dryRun?: boolean;
  /** The batch time aimed at: locks are held for at most 1.75 × this. */
  targetBatchMs: number;
}

/**
 * One batch: (afterKey, last key] in one transaction. Every statement's
 * timeout is what is left of 1.75 × the target (the rest is headroom for the
 * round trips between statements), so no batch holds its locks
 * longer than that; the batch record goes in with the update.
 */
export async function applyBackfillBatch(
  pool: Pool,
  def: BackfillDefinition,
  input: BatchRun,
  afterKey: string | null,
  keys: string[],
  attempt: number,
): Promise<BatchAttempt> {
  const scope = backfillScope(input.tenantId);
  const lastKey = keys[keys.length - 1]!;
  const limitMs = 1.75 * input.targetBatchMs;
  const startedAt = new Date();
  const t0 = performance.now();
  const c = await pool.connect();
  const deadline = async () => {
    const left = Math.max(1, Math.floor(limitMs - (performance.now() - t0)));
    await c.query(`SET LOCAL statement_timeout = ${left}`);
  };
  try {
    await c.query('BEGIN');
    await c.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.min(input.targetBatchMs, 1000))}`);
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

/** A finishing DDL statement that gave up: on its lock (try the step again later), or for good. */
export class FinishStepError extends Error {
  constructor(
    message: string,
    readonly lockTimeout: boolean,
  ) {
    super(message);
    this.name = 'FinishStepError';
  }
}

export interface FinishRun {
  name: string;
  runId: string;
  lockTimeoutMs: number;
  /** Attempts of one statement before a lock timeout fails the step. */
  attempts: number;
}

/**
 * One finishing step. Each DDL statement runs on its own under
 * `lock_timeout`: one that cannot get its lock in time gives up (writers
 * queued behind it go on) and is tried again after `beforeRetry` (the caller
 * heartbeats and pauses). Every attempt is recorded in backfill_ddl. Answers
 * the attempts made; a statement that gives up throws FinishStepError.
 */
export async function runFinishStepDdl(
  pool: Pool,
  def: BackfillDefinition,
  step: FinishStep,
  input: FinishRun,
  beforeRetry: (stepName: string, attempt: number) => Promise<void>,
): Promise<number> {
  const stepName = finishStepName(step);
  const c = await pool.connect();
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
            await beforeRetry(stepName, attempt);
            continue;
          }
          await logDdl(c, input, `${stepName}/${part}`, attempt, code === '55P03' ? 'lock_timeout' : 'error', ms, (err as Error).message);
          if (code === '55P03') throw new FinishStepError(`${stepName}: no lock within ${input.lockTimeoutMs} ms after ${attempt} attempts`, true);
          throw new FinishStepError(`${stepName}: ${(err as Error).message}`, false);
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
  return attempts;
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

// The operator's view of a run (services/platform/backfills), on the API's data source.

export interface BackfillBatchRow {
  id: string;
  scope: string;
  size: number;
  rows: number;
  duration_ms: number;
  status: string;
  finished_at: Date;
}

/** The newest 400 batches of a run (oldest first), across its tenants for a tenant-scoped run unless `scope` names one. */
export async function backfillBatchSeries(ds: DataSource, name: string, runKey: string, scope: string | null): Promise<BackfillBatchRow[]> {
  return (await ds.query(
    `SELECT * FROM (SELECT id, scope, size, rows, duration_ms, status, finished_at FROM backfill_batches
           WHERE backfill = $1 AND run_id LIKE $2 AND ($3::text IS NULL OR scope = $3) ORDER BY id DESC LIMIT 400) b ORDER BY id`,
    [name, `${runKey}#%`, scope],
  )) as BackfillBatchRow[];
}

/** The first 100 rows of the orphan report (by scope and key), each with the report's total. */
export async function backfillOrphanReport(
  ds: DataSource,
  name: string,
  scope: string | null,
): Promise<{ scope: string; row_key: string; reason: string; found_at: Date; total: number }[]> {
  return (await ds.query(
    `SELECT scope, row_key, reason, found_at, count(*) OVER ()::int AS total FROM backfill_orphans
      WHERE backfill = $1 AND ($2::text IS NULL OR scope = $2) ORDER BY scope, row_key LIMIT 100`,
    [name, scope],
  )) as { scope: string; row_key: string; reason: string; found_at: Date; total: number }[];
}

/** The newest 50 finishing DDL attempts of a run. */
export async function backfillDdlAttempts(
  ds: DataSource,
  name: string,
  runKey: string,
): Promise<{ step: string; attempt: number; outcome: string; duration_ms: number; error: string | null; at: Date }[]> {
  return (await ds.query(
    'SELECT step, attempt, outcome, duration_ms, error, at FROM backfill_ddl WHERE backfill = $1 AND run_id = $2 ORDER BY id DESC LIMIT 50',
    [name, runKey],
  )) as { step: string; attempt: number; outcome: string; duration_ms: number; error: string | null; at: Date }[];
}
