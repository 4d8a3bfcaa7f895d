// Automation runs and their steps (docs/automations.md, "Runs"): a run is a
// row from the moment its trigger fires, `queued` until the tenant's
// concurrency admits it; a step row is keyed by its path in the definition.
import { type EntityManager } from 'typeorm';
import { keysetPage, type ListParams, type Page } from './pagination';
import { ensureBucket, type Queryable, takeBucketHits } from './rateLimits';

export type RunStatus = 'queued' | 'running' | 'waiting' | 'completed' | 'failed' | 'canceled';

export interface RunRow {
  id: string;
  automation_id: string;
  version: number;
  customer_id: string | null;
  lead_id: string | null;
  status: RunStatus;
  trigger: { type: string; eventId?: string; payload: Record<string, unknown> };
  dedupe_key: string | null;
  dry_run: boolean;
  rerun_of: string | null;
  waiting_for: Record<string, unknown> | null;
  error: { code: string; message: string; step?: string } | null;
  queued_at: Date;
  started_at: Date | null;
  ended_at: Date | null;
}

export const RUN_COLUMNS =
  'id, automation_id, version, customer_id, lead_id, status, trigger, dedupe_key, dry_run, rerun_of, waiting_for, error, queued_at, started_at, ended_at';

export interface NewRun {
  id: string;
  automationId: string;
  version: number;
  customerId: string | null;
  leadId: string | null;
  trigger: RunRow['trigger'];
  /** A trigger delivered twice gives the same key, and so one run; null for runs that are never deduplicated. */
  dedupeKey: string | null;
  dryRun?: boolean;
  rerunOf?: string | null;
  /** `canceled` with an error for a run refused at its trigger (the loop guard), else `queued`. */
  status?: 'queued' | 'canceled';
  error?: RunRow['error'];
}

/** Records a run; answers the run that holds its dedupe key when one already does (`created: false`). */
export async function insertRun(m: EntityManager, run: NewRun): Promise<{ id: string; created: boolean }> {
  const [row] = (await m.query(
    `WITH ins AS (
       INSERT INTO automation_runs (tenant_id, id, automation_id, version, customer_id, lead_id, trigger, dedupe_key, dry_run, rerun_of, status, error, ended_at)
       VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, $11::jsonb, CASE WHEN $10 = 'queued' THEN NULL ELSE clock_timestamp() END)
       ON CONFLICT (tenant_id, automation_id, dedupe_key) DO NOTHING RETURNING id)
     SELECT id, true AS created FROM ins
     UNION ALL SELECT id, false FROM automation_runs WHERE automation_id = $2 AND dedupe_key = $7 AND NOT EXISTS (SELECT 1 FROM ins)`,
    [
      run.id,
      run.automationId,
      run.version,
      run.customerId,
      run.leadId,
      JSON.stringify(run.trigger),
      run.dedupeKey,
      run.dryRun ?? false,
      run.rerunOf ?? null,
      run.status ?? 'queued',
      run.error ? JSON.stringify(run.error) : null,
    ],
  )) as { id: string; created: boolean }[];
  return row!;
}

export async function findRun(m: EntityManager, id: string): Promise<RunRow | undefined> {
  const [row] = (await m.query(`SELECT ${RUN_COLUMNS} FROM automation_runs WHERE id = $1`, [id])) as RunRow[];
  return row;
}

/**
 * Admits the tenant's oldest queued runs while fewer than `maxRunning` are
 * `running`: marks them running and answers them, for the caller to start
 * their workflows after the commit. A transaction-scoped advisory lock per
 * tenant makes concurrent admitters (API processes, workers) take turns, so
 * the count they read is the count they act on.
 */
export async function admitQueuedRuns(m: EntityManager, maxRunning: number): Promise<Pick<RunRow, 'id' | 'automation_id'>[]> {
  await m.query("SELECT pg_advisory_xact_lock(hashtextextended('automation_admission:' || current_setting('app.tenant_id'), 0))");
  // An UPDATE … RETURNING answers [rows, count].
  const [rows] = (await m.query(
    `WITH free AS (SELECT greatest(0, $1 - count(*))::int AS n FROM automation_runs WHERE status = 'running'),
          next AS (SELECT id FROM automation_runs WHERE status = 'queued' ORDER BY seq LIMIT (SELECT n FROM free) FOR UPDATE)
     UPDATE automation_runs r SET status = 'running', started_at = clock_timestamp()
       FROM next WHERE r.id = next.id
     RETURNING r.id, r.automation_id`,
    [maxRunning],
  )) as [Pick<RunRow, 'id' | 'automation_id'>[], number];
  return rows;
}

/**
 * Takes `n` of the tenant's counted actions on the shared limiter (one bucket
 * per tenant, a rolling 60 s window, docs/automations.md "Limits"); when
 * refused, `retryAfterMs` says when to try again.
 */
export async function takeAutomationActions(
  db: Queryable,
  tenantId: string,
  limit: number,
  n = 1,
): Promise<{ allowed: true } | { allowed: false; retryAfterMs: number }> {
  const bucket = `automation-actions:${tenantId}`;
  for (;;) {
    await ensureBucket(db, bucket);
    const r = await takeBucketHits(db, bucket, n, limit, 60_000);
    if (!r) continue;
    return r.allowed ? { allowed: true } : { allowed: false, retryAfterMs: r.retry * 1000 };
  }
}

// Reading runs for the API and the console (docs/automations.md, "Run API").

/** A run as its detail shows it: the row and the customer of its automation (null: tenant-wide). */
export type RunWithScope = RunRow & { automation_customer_id: string | null };

/** The run and whose automation it belongs to; undefined when the tenant has no such run. */
export async function findRunWithScope(m: EntityManager, id: string): Promise<RunWithScope | undefined> {
  const [row] = (await m.query(
    `SELECT ${RUN_COLUMNS.split(', ')
      .map((c) => `r.${c}`)
      .join(', ')}, a.customer_id AS automation_customer_id
       FROM automation_runs r JOIN automations a ON a.id = r.automation_id WHERE r.id = $1`,
    [id],
  )) as RunWithScope[];
  return row;
}

/**
 * Whether the automation exists and whose it is, for a list of its runs: the
 * automation's own row is db/automations.ts's, so this reads it through the
 * join (a right join: an automation with no run yet still answers).
 */
export async function automationScopeOfRuns(m: EntityManager, automationId: string): Promise<{ customer_id: string | null } | undefined> {
  const [row] = (await m.query('SELECT a.customer_id FROM automation_runs r RIGHT JOIN automations a ON a.id = r.automation_id WHERE a.id = $1 LIMIT 1', [
    automationId,
  ])) as { customer_id: string | null }[];
  return row;
}

export interface RunListFilter {
  automationId?: string;
  status?: RunStatus;
  /** Only runs of this customer's automations (a member restricted to it). */
  customerId?: string;
}

/** One page of runs, newest first (run ids are time-ordered: db/ids.ts). */
export async function listRunsPage(m: EntityManager, filter: RunListFilter, list: ListParams): Promise<Page<RunRow>> {
  return keysetPage<RunRow>(m, list, {
    select: `SELECT ${RUN_COLUMNS.split(', ')
      .map((c) => `r.${c}`)
      .join(', ')} FROM automation_runs r JOIN automations a ON a.id = r.automation_id`,
    key: 'r.id',
    order: 'desc',
    where: [
      ['r.automation_id = ?', filter.automationId],
      ['r.status = ?', filter.status],
      ['a.customer_id = ?', filter.customerId],
    ],
    idOf: (r) => r.id,
  });
}

export interface StepRow {
  path: string;
  ordinal: number;
  type: string;
  status: 'running' | 'waiting' | 'completed' | 'failed' | 'skipped' | 'canceled';
  attempt: number;
  output: unknown;
  error: { code?: string; message?: string } | null;
  started_at: Date;
  ended_at: Date | null;
}

/** A run's steps in the order they ran. */
export async function listRunSteps(m: EntityManager, runId: string): Promise<StepRow[]> {
  return (await m.query(
    `SELECT path, ordinal, type, status, attempt, output, error, started_at, ended_at
       FROM automation_run_steps WHERE run_id = $1 ORDER BY ordinal, started_at, path`,
    [runId],
  )) as StepRow[];
}

/** The runs that rerun this one (newest first). */
export async function rerunsOf(m: EntityManager, runId: string): Promise<string[]> {
  const rows = (await m.query('SELECT id FROM automation_runs WHERE rerun_of = $1 ORDER BY id DESC', [runId])) as { id: string }[];
  return rows.map((r) => r.id);
}

/** Cancels a run still `queued` (it has no workflow yet); false when it is no longer queued. */
export async function cancelQueuedRun(m: EntityManager, runId: string): Promise<boolean> {
  const [rows] = (await m.query(
    "UPDATE automation_runs SET status = 'canceled', ended_at = clock_timestamp() WHERE id = $1 AND status = 'queued' RETURNING id",
    [runId],
  )) as [{ id: string }[], number];
  return rows.length > 0;
}

/** Ends a run whose workflow is gone (it never started, or ended before writing its row) as canceled. */
export async function cancelOrphanedRun(m: EntityManager, runId: string): Promise<boolean> {
  const [rows] = (await m.query(
    "UPDATE automation_runs SET status = 'canceled', waiting_for = NULL, ended_at = clock_timestamp() WHERE id = $1 AND status IN ('running', 'waiting') RETURNING id",
    [runId],
  )) as [{ id: string }[], number];
  return rows.length > 0;
}

/** The run holding a dedupe key (a statement of its own, so it sees a concurrent request's committed run). */
export async function findRunIdByDedupeKey(m: EntityManager, automationId: string, dedupeKey: string): Promise<string | undefined> {
  const [row] = (await m.query('SELECT id FROM automation_runs WHERE automation_id = $1 AND dedupe_key = $2', [automationId, dedupeKey])) as { id: string }[];
  return row?.id;
}
