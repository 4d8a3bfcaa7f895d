// Automation runs and their steps (docs/automations.md, "Runs"): a run is a
// row from the moment its trigger fires, `queued` until the tenant's
// concurrency admits it; a step row is keyed by its path in the definition.
import { type EntityManager } from 'typeorm';
import { type RunData } from '../lib/automations';
import { eventInsert } from './analyticsEvents';
import { conditionLead, findLeadById } from './leads';
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
 * their workflows after the commit (or, for a run back in the queue after a
 * wait, whose workflow exists, to signal it). A run keeps its first
 * `started_at`, the time it began running. A transaction-scoped advisory lock per
 * tenant makes concurrent admitters (API processes, workers) take turns, so
 * the count they read is the count they act on.
 */
export async function admitQueuedRuns(m: EntityManager, maxRunning: number): Promise<Pick<RunRow, 'id' | 'automation_id'>[]> {
  await m.query("SELECT pg_advisory_xact_lock(hashtextextended('automation_admission:' || current_setting('app.tenant_id'), 0))");
  // An UPDATE … RETURNING answers [rows, count].
  const [rows] = (await m.query(
    `WITH free AS (SELECT greatest(0, $1 - count(*))::int AS n FROM automation_runs WHERE status = 'running'),
          next AS (SELECT id FROM automation_runs WHERE status = 'queued' ORDER BY seq LIMIT (SELECT n FROM free) FOR UPDATE)
     UPDATE automation_runs r SET status = 'running', started_at = coalesce(r.started_at, clock_timestamp())
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

/** The waiting runs a `wait_for` step holds for this event type about this lead (docs/automations.md, "Triggers"). */
export async function waitingRunsFor(m: EntityManager, eventType: string, leadId: string): Promise<Pick<RunRow, 'id' | 'automation_id'>[]> {
  return (await m.query(
    `SELECT id, automation_id FROM automation_runs
      WHERE status = 'waiting' AND waiting_for->>'event' = $1 AND waiting_for->>'leadId' = $2 ORDER BY seq`,
    [eventType, leadId],
  )) as Pick<RunRow, 'id' | 'automation_id'>[];
}

/**
 * Runs admitted (`running`) more than `olderThanMs` ago, oldest first: the
 * dispatcher's sweep starts their workflows again, in case the process that
 * admitted one died between its commit and the start.
 */
export async function runningRunsStartedBefore(m: EntityManager, olderThanMs: number, limit: number): Promise<Pick<RunRow, 'id' | 'automation_id'>[]> {
  return (await m.query(
    `SELECT id, automation_id FROM automation_runs
      WHERE status = 'running' AND started_at < clock_timestamp() - $1::bigint * interval '1 millisecond'
      ORDER BY started_at LIMIT $2`,
    [olderThanMs, limit],
  )) as Pick<RunRow, 'id' | 'automation_id'>[];
}

/**
 * Counts one trigger of `automationId` for `leadId` on the shared limiter (the
 * loop guard, docs/automations.md "Limits"): at most `limit` per rolling
 * `windowMs` (an hour). In the caller's transaction, so a dispatch that rolls
 * back takes its hit back too.
 */
export async function takeLoopGuardHit(
  db: Queryable,
  tenantId: string,
  automationId: string,
  leadId: string,
  limit: number,
  windowMs = 3_600_000,
): Promise<boolean> {
  const bucket = `automation-loop:${tenantId}:${automationId}:${leadId}`;
  for (;;) {
    await ensureBucket(db, bucket);
    const r = await takeBucketHits(db, bucket, 1, limit, windowMs);
    if (r) return r.allowed;
  }
}

/** A run with the definition of its own version (never the automation's live one). */
export interface RunWithDefinition extends RunRow {
  definition: unknown;
}

/** The run and its version's definition, read together, so a run interprets exactly the version it was created on. */
export async function findRunWithDefinition(m: EntityManager, id: string): Promise<RunWithDefinition | undefined> {
  const [row] = (await m.query(
    `SELECT ${RUN_COLUMNS.split(', ')
      .map((c) => `r.${c}`)
      .join(', ')}, v.definition
       FROM automation_runs r JOIN automation_versions v ON v.tenant_id = r.tenant_id AND v.automation_id = r.automation_id AND v.version = r.version
      WHERE r.id = $1`,
    [id],
  )) as RunWithDefinition[];
  return row;
}

export type StepStatus = 'running' | 'waiting' | 'completed' | 'failed' | 'skipped' | 'canceled';
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
  status: StepStatus;
  attempt: number;
  output: Record<string, unknown> | null;
  error: { code: string; message: string } | null;
  started_at: Date;
  ended_at: Date | null;
}

const STEP_COLUMNS = 'path, ordinal, type, status, attempt, output, error, started_at, ended_at';

/** The run's step rows in the order they ran. */
export async function listRunSteps(m: EntityManager, runId: string): Promise<StepRow[]> {
  return (await m.query(`SELECT ${STEP_COLUMNS} FROM automation_run_steps WHERE run_id = $1 ORDER BY ordinal, path`, [runId])) as StepRow[];
}

/**
 * A rerun's start: copies every step the failed run completed (or had itself
 * skipped as a rerun) into the rerun as `skipped`, with its output, so a
 * branch decides as before and no action is repeated. Safe to repeat.
 */
export async function copyCompletedSteps(m: EntityManager, fromRunId: string, toRunId: string): Promise<void> {
  await m.query(
    `INSERT INTO automation_run_steps (tenant_id, run_id, path, ordinal, type, status, attempt, output, started_at, ended_at)
     SELECT tenant_id, $2, path, ordinal, type, 'skipped', 1, output, clock_timestamp(), clock_timestamp()
       FROM automation_run_steps WHERE run_id = $1 AND status IN ('completed', 'skipped')
     ON CONFLICT (tenant_id, run_id, path) DO NOTHING`,
    [fromRunId, toRunId],
  );
}

export interface StepKey {
  runId: string;
  path: string;
}

/**
 * Begins a step (`running`, or `waiting` for a wait): a row the first time,
 * and on a retried attempt the same row with its attempt counted up and its
 * output kept (a send's message id lives there). A step that has already
 * ended is answered as it is, unchanged.
 */
export async function beginStep(
  m: EntityManager,
  s: StepKey & { ordinal: number; type: string; status: 'running' | 'waiting' },
): Promise<Pick<StepRow, 'status' | 'attempt' | 'output'>> {
  const [row] = (await m.query(
    `WITH up AS (
       INSERT INTO automation_run_steps (tenant_id, run_id, path, ordinal, type, status)
       VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, $4, $5)
       ON CONFLICT (tenant_id, run_id, path) DO UPDATE SET attempt = automation_run_steps.attempt + 1, status = EXCLUDED.status
         WHERE automation_run_steps.status IN ('running', 'waiting')
       RETURNING status, attempt, output)
     SELECT status, attempt, output FROM up
     UNION ALL SELECT status, attempt, output FROM automation_run_steps WHERE run_id = $1 AND path = $2 AND NOT EXISTS (SELECT 1 FROM up)`,
    [s.runId, s.path, s.ordinal, s.type, s.status],
  )) as Pick<StepRow, 'status' | 'attempt' | 'output'>[];
  return row!;
}

/** Keeps a step's output while it runs (a send's message id, in the transaction that records the message). */
export async function setStepOutput(m: EntityManager, s: StepKey, output: Record<string, unknown>): Promise<void> {
  await m.query('UPDATE automation_run_steps SET output = $3::jsonb WHERE run_id = $1 AND path = $2', [s.runId, s.path, JSON.stringify(output)]);
}

/** Ends a running (or waiting) step; a step that has already ended is left as it is. */
export async function endStep(
  m: EntityManager,
  s: StepKey & { status: 'completed' | 'failed' | 'canceled'; output?: Record<string, unknown>; error?: { code: string; message: string } },
): Promise<void> {
  await m.query(
    `UPDATE automation_run_steps SET status = $3, output = coalesce($4::jsonb, output), error = $5::jsonb, ended_at = clock_timestamp()
      WHERE run_id = $1 AND path = $2 AND status IN ('running', 'waiting')`,
    [s.runId, s.path, s.status, s.output ? JSON.stringify(s.output) : null, s.error ? JSON.stringify(s.error) : null],
  );
}

/** Records a step that begins and ends at once (a branch's decision, a dry run's action, a refusal); recorded once. */
export async function recordStep(
  m: EntityManager,
  s: StepKey & {
    ordinal: number;
    type: string;
    status: 'completed' | 'failed' | 'skipped';
    output?: Record<string, unknown>;
    error?: { code: string; message: string };
  },
): Promise<void> {
  await m.query(
    `INSERT INTO automation_run_steps (tenant_id, run_id, path, ordinal, type, status, output, error, ended_at)
     VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, clock_timestamp())
     ON CONFLICT (tenant_id, run_id, path) DO NOTHING`,
    [s.runId, s.path, s.ordinal, s.type, s.status, s.output ? JSON.stringify(s.output) : null, s.error ? JSON.stringify(s.error) : null],
  );
}

/** Marks a run running (admitted, or awake after a wait); an ended run is left alone (undefined). Answers when it began running. */
export async function markRunRunning(m: EntityManager, id: string): Promise<Date | undefined> {
  const [rows] = (await m.query(
    `UPDATE automation_runs SET status = 'running', waiting_for = NULL, started_at = coalesce(started_at, clock_timestamp())
      WHERE id = $1 AND status IN ('queued', 'running', 'waiting') RETURNING started_at`,
    [id],
  )) as [{ started_at: Date }[], number];
  return rows[0]?.started_at;
}

/**
 * Puts a run that wakes from a wait back in the queue: it takes a slot again
 * only when admitted. It keeps its `seq`, its place from when it was
 * triggered, so a run already under way goes before runs triggered after it.
 * False when the run has ended or is gone.
 */
export async function requeueRun(m: EntityManager, id: string): Promise<boolean> {
  const [rows] = (await m.query(
    "UPDATE automation_runs SET status = 'queued', waiting_for = NULL WHERE id = $1 AND status IN ('queued', 'running', 'waiting') RETURNING id",
    [id],
  )) as [{ id: string }[], number];
  return rows.length > 0;
}

/** Marks a run waiting (it holds no concurrency slot), with what it waits for (`{event, leadId, path, since}` for a wait_for). */
export async function markRunWaiting(m: EntityManager, id: string, waitingFor: Record<string, unknown> | null): Promise<void> {
  await m.query("UPDATE automation_runs SET status = 'waiting', waiting_for = $2::jsonb WHERE id = $1 AND status IN ('running', 'waiting')", [
    id,
    waitingFor ? JSON.stringify(waitingFor) : null,
  ]);
}

/**
 * Ends a run: its status, error and end, the steps still open closed
 * (canceled with a canceled run, else failed), and its
 * `automation.run_completed` / `automation.run_failed` event (key
 * `automation.run:{runId}`) in the same statement; a canceled run writes no
 * event. A run that has already ended is left as it is (answers false).
 */
export async function endRun(m: EntityManager, id: string, end: { status: 'completed' | 'failed' | 'canceled'; error?: RunRow['error'] }): Promise<boolean> {
  const [row] = (await m.query(
    `WITH done AS (
       UPDATE automation_runs SET status = $2, error = $3::jsonb, waiting_for = NULL, ended_at = clock_timestamp(), started_at = coalesce(started_at, clock_timestamp())
        WHERE id = $1 AND status IN ('queued', 'running', 'waiting')
        RETURNING id, automation_id, version, customer_id, lead_id, status, error, dry_run, ended_at),
     steps AS (
       UPDATE automation_run_steps s SET status = CASE WHEN $2 = 'canceled' THEN 'canceled' ELSE 'failed' END, ended_at = clock_timestamp()
         FROM done WHERE s.run_id = done.id AND s.status IN ('running', 'waiting')),
     ev AS (${eventInsert(
       'done',
       {
         type: "CASE WHEN done.status = 'completed' THEN 'automation.run_completed' ELSE 'automation.run_failed' END",
         occurredAt: 'done.ended_at',
         customerId: 'done.customer_id',
         leadId: 'done.lead_id',
         automationId: 'done.automation_id',
         properties: "jsonb_strip_nulls(jsonb_build_object('runId', done.id, 'version', done.version, 'dryRun', done.dry_run, 'error', done.error))",
         dedupeKey: "'automation.run:' || done.id",
       },
       "done.status <> 'canceled'",
     )})
     SELECT count(*)::int AS n FROM done`,
    [id, end.status, end.error ? JSON.stringify(end.error) : null],
  )) as { n: number }[];
  return row!.n > 0;
}

/**
 * The data a run's conditions and templates read: its trigger and, when the
 * run has a lead that still exists, the lead as it is now (with the run's own
 * tag and stage changes). Read by activities, never handed to the workflow,
 * so no lead's values land in its history (docs/architecture.md).
 */
export async function findRunData(m: EntityManager, runId: string): Promise<RunData | undefined> {
  const run = await findRun(m, runId);
  if (!run) return undefined;
  const l = run.lead_id ? await findLeadById(m, run.lead_id) : undefined;
  return { trigger: run.trigger, ...(l ? { lead: conditionLead(l) } : {}) };
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

/** When each of these automations last had a run queued (the automation list shows it). */
export async function lastRunTimes(m: EntityManager, automationIds: string[]): Promise<Map<string, Date>> {
  const rows = (await m.query('SELECT automation_id, max(queued_at) AS at FROM automation_runs WHERE automation_id = ANY($1) GROUP BY automation_id', [
    automationIds,
  ])) as { automation_id: string; at: Date }[];
  return new Map(rows.map((r) => [r.automation_id, r.at]));
}
