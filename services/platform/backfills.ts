// Backfills for operators (docs/operations.md, "Backfills"): what is declared, how each run is
// going (the workflow's progress query, the children's for a tenant-scoped
// run, the batch records for the chart, the orphan report, the finishing DDL
// attempts), and start / pause / resume / cancel / throttle, each with a
// platform audit entry. The API and the CLI both call these.
import { type Client, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import { type DataSource } from 'typeorm';
import { insertBackfillAudit } from '../../db/auditLog';
import { backfillBatchSeries, backfillDdlAttempts, backfillOrphanReport } from '../../db/backfills';
import { tenantExists } from '../../db/tenants';
import { ApiError, notFound } from '../../lib/errors';
import { BACKFILLS, findBackfill, type BackfillDefinition } from '../../migrations/backfills';
import {
  BACKFILL,
  type BackfillInput,
  type BackfillProgress,
  type BackfillSettings,
  cancelSignal,
  pauseSignal,
  platformBackfillWorkflowId,
  progressQuery,
  resumeSignal,
  setThrottleSignal,
  tenantBackfillWorkflowId,
} from '../../workflows/backfill.contract';
import { tenantSearchAttributes } from '../tenantWorkflows';

export interface BackfillDeps {
  client: Client;
  /** The backfill worker's task queue. */
  backfillTaskQueue: string;
}

export interface Actor {
  userId: string | null;
  requestId?: string;
}

export type RunStatus = 'never_run' | 'running' | 'completed' | 'failed' | 'cancelled' | 'terminated' | 'timed_out' | 'continued_as_new' | 'unknown';

export interface RunView {
  workflowId: string;
  status: RunStatus;
  progress: BackfillProgress | null;
}

function definition(name: string): BackfillDefinition {
  const def = findBackfill(name);
  if (!def) throw notFound('backfill');
  return def;
}

const workflowIdOf = (def: BackfillDefinition, tenantId?: string) =>
  tenantId ? tenantBackfillWorkflowId(tenantId, def.name) : platformBackfillWorkflowId(def.name);

/** A run as Temporal knows it: a running one answers its progress query (briefly: the backfill worker may be down), a closed one its result. */
async function runView(client: Client, workflowId: string): Promise<RunView> {
  const handle = client.workflow.getHandle(workflowId);
  let status: RunStatus;
  try {
    const d = await handle.describe();
    status = d.status.name.toLowerCase() as RunStatus;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return { workflowId, status: 'never_run', progress: null };
    throw err;
  }
  let progress: BackfillProgress | null;
  try {
    progress =
      status === 'running'
        ? await client.withDeadline(Date.now() + 3_000, () => handle.query(progressQuery))
        : status === 'completed'
          ? ((await handle.result()) as BackfillProgress)
          : null;
  } catch {
    progress = null;
  }
  return { workflowId, status, progress };
}

/** A tenant-scoped run's children as they are now: the running ones answer their own progress. */
async function withLiveChildren(client: Client, p: BackfillProgress): Promise<BackfillProgress> {
  if (p.children.length === 0) return p;
  const children = await Promise.all(
    p.children.map(async (c) => {
      if (c.state !== 'running' && c.state !== 'paused') return c;
      const live = await runView(client, c.workflowId);
      const q = live.progress;
      return q ? { ...c, state: q.state, rowsDone: q.rowsDone, rowsEstimated: q.rowsEstimated, failures: q.failures, orphans: q.orphans } : c;
    }),
  );
  const sum = (f: (c: (typeof children)[number]) => number) => children.reduce((n, c) => n + f(c), 0);
  const rowsDone = Math.max(
    p.rowsDone,
    sum((c) => c.rowsDone),
  );
  const rowsEstimated = Math.max(
    p.rowsEstimated,
    sum((c) => c.rowsEstimated),
    rowsDone,
  );
  const elapsed = (Date.now() - Date.parse(p.startedAt)) / 1000;
  const ratePerSec = p.state === 'running' && elapsed > 0 ? Math.round(rowsDone / elapsed) : p.ratePerSec;
  return {
    ...p,
    children,
    rowsDone,
    rowsEstimated,
    failures: Math.max(
      p.failures,
      sum((c) => c.failures),
    ),
    ratePerSec,
    etaSeconds: ratePerSec > 0 ? Math.ceil((rowsEstimated - rowsDone) / ratePerSec) : p.etaSeconds,
  };
}

const summary = (def: BackfillDefinition) => ({
  name: def.name,
  title: def.title,
  description: def.description,
  scope: def.scope,
  table: def.table,
  column: def.column,
});

export async function listBackfills(deps: BackfillDeps) {
  const data = await Promise.all(
    BACKFILLS.map(async (def) => {
      const run = await runView(deps.client, workflowIdOf(def));
      return { ...summary(def), run: { ...run, progress: run.progress ? await withLiveChildren(deps.client, run.progress) : null } };
    }),
  );
  return { data };
}

/** One backfill: its run (or a tenant's), the batch series of the run for the chart, the orphan report and the finishing DDL attempts. */
export async function getBackfill(ds: DataSource, deps: BackfillDeps, name: string, tenantId?: string) {
  const def = definition(name);
  const run = await runView(deps.client, workflowIdOf(def, tenantId));
  const progress = run.progress ? await withLiveChildren(deps.client, run.progress) : null;
  const runKey = progress?.runId ?? null;
  const scope = tenantId ?? null;
  // The newest 400 batches of this run (oldest first), across its tenants for a tenant-scoped run.
  const batches = runKey ? await backfillBatchSeries(ds, def.name, runKey, scope) : [];
  const orphans = await backfillOrphanReport(ds, def.name, scope);
  const ddl = runKey ? await backfillDdlAttempts(ds, def.name, runKey) : [];
  return {
    ...summary(def),
    finishSteps: def.finish.length,
    run: { ...run, progress },
    batches: batches.map((b) => ({ scope: b.scope, size: b.size, rows: b.rows, ms: b.duration_ms, status: b.status, at: b.finished_at })),
    orphans: { total: orphans[0]?.total ?? 0, rows: orphans.map((o) => ({ scope: o.scope, key: o.row_key, reason: o.reason, foundAt: o.found_at })) },
    ddl: ddl.map((d) => ({ step: d.step, attempt: d.attempt, outcome: d.outcome, ms: d.duration_ms, error: d.error, at: d.at })),
  };
}

async function platformAudit(ds: DataSource, actor: Actor, action: string, name: string, details: Record<string, unknown>): Promise<void> {
  await insertBackfillAudit(ds, { action, actorUserId: actor.userId, backfill: name, requestId: actor.requestId ?? null, details });
}

export interface StartOptions {
  tenantId?: string;
  dryRun?: boolean;
  settings?: Partial<Pick<BackfillSettings, 'targetBatchMs' | 'sleepMs' | 'parallelism' | 'maxBatch'>>;
}

export async function startBackfill(ds: DataSource, deps: BackfillDeps, actor: Actor, name: string, opts: StartOptions) {
  const def = definition(name);
  if (opts.tenantId) {
    if (def.scope !== 'tenant')
      throw new ApiError(400, 'validation_failed', `${def.name} is not tenant-scoped`, [
        { path: 'tenantId', message: 'this backfill runs over the whole table', code: 'custom' },
      ]);
    if (!(await tenantExists(ds, opts.tenantId))) throw notFound('tenant');
  }
  const workflowId = workflowIdOf(def, opts.tenantId);
  const input: BackfillInput = { name: def.name, tenantId: opts.tenantId, dryRun: opts.dryRun, settings: opts.settings };
  try {
    await deps.client.workflow.start(BACKFILL, {
      workflowId,
      taskQueue: deps.backfillTaskQueue,
      args: [input],
      ...(opts.tenantId ? { typedSearchAttributes: tenantSearchAttributes(opts.tenantId) } : {}),
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) throw new ApiError(409, 'backfill_running', `${def.name} is already running`);
    throw err;
  }
  await platformAudit(ds, actor, 'backfill.start', def.name, { tenantId: opts.tenantId ?? null, dryRun: opts.dryRun ?? false, settings: opts.settings ?? {} });
  return { name: def.name, workflowId, status: 'running' as const };
}

export type Control = { action: 'pause' } | { action: 'resume' } | { action: 'cancel' } | { action: 'throttle'; targetBatchMs?: number; sleepMs?: number };

export async function controlBackfill(ds: DataSource, deps: BackfillDeps, actor: Actor, name: string, control: Control, tenantId?: string) {
  const def = definition(name);
  const workflowId = workflowIdOf(def, tenantId);
  // The signal itself is the check: asking first and signalling after leaves a
  // gap in which the run completes, and a handle without a run id follows a
  // continue-as-new to the newest run. A closed or missing run answers
  // "not found" to the signal (docs/operations.md, "Backfills").
  const handle = deps.client.workflow.getHandle(workflowId);
  try {
    switch (control.action) {
      case 'pause':
        await handle.signal(pauseSignal);
        break;
      case 'resume':
        await handle.signal(resumeSignal);
        break;
      case 'cancel':
        await handle.signal(cancelSignal);
        break;
      case 'throttle':
        await handle.signal(setThrottleSignal, { targetBatchMs: control.targetBatchMs, sleepMs: control.sleepMs });
        break;
    }
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new ApiError(409, 'backfill_not_running', `${def.name} is not running`);
    throw err;
  }
  const { action, ...details } = control;
  await platformAudit(ds, actor, `backfill.${action}`, def.name, { tenantId: tenantId ?? null, ...details });
  return { name: def.name, workflowId, signalled: action };
}
