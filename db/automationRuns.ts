// Automation runs and their steps (docs/automations.md, "Runs"): a run is a
// row from the moment its trigger fires, `queued` until the tenant's
// concurrency admits it; a step row is keyed by its path in the definition.
import { type EntityManager } from 'typeorm';
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
  return (await m.query(
    `WITH free AS (SELECT greatest(0, $1 - count(*))::int AS n FROM automation_runs WHERE status = 'running'),
          next AS (SELECT id FROM automation_runs WHERE status = 'queued' ORDER BY seq LIMIT (SELECT n FROM free) FOR UPDATE)
     UPDATE automation_runs r SET status = 'running', started_at = clock_timestamp()
       FROM next WHERE r.id = next.id
     RETURNING r.id, r.automation_id`,
    [maxRunning],
  )) as Pick<RunRow, 'id' | 'automation_id'>[];
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

/** When each of these automations last had a run queued (the automation list shows it). */
export async function lastRunTimes(m: EntityManager, automationIds: string[]): Promise<Map<string, Date>> {
  const rows = (await m.query('SELECT automation_id, max(queued_at) AS at FROM automation_runs WHERE automation_id = ANY($1) GROUP BY automation_id', [
    automationIds,
  ])) as { automation_id: string; at: Date }[];
  return new Map(rows.map((r) => [r.automation_id, r.at]));
}
