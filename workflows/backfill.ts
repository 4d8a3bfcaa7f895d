// backfill: runs one declared backfill (migrations/backfills) to the end —
// batches, verification, then the finishing constraints — as a durable process
// an operator can pause, resume, throttle and cancel (docs/operations.md,
// "Backfills").
//
// A platform-scoped backfill runs here, at `platform/backfill/{name}`. A
// tenant-scoped one starts a child per tenant (`tenant/{id}/backfill/{name}`,
// tagged TenantId) with at most `parallelism` running; one tenant's failure is
// recorded and the others go on, and the table-wide constraints go on only
// when every tenant is done. The batches themselves run in an activity that
// heartbeats its last key (activities/backfill.ts); between slices the run
// obeys its signals and continues as new when its history grows long.
import {
  ApplicationFailure,
  condition,
  continueAsNew,
  executeChild,
  getExternalWorkflowHandle,
  log,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { rootMessage } from './failures';
import {
  type BackfillInput,
  type BackfillProgress,
  type BackfillSettings,
  cancelSignal,
  type ChildProgress,
  DEFAULT_BACKFILL_SETTINGS,
  pauseSignal,
  progressQuery,
  resumeSignal,
  setThrottleSignal,
  tenantBackfillWorkflowId,
  BACKFILL_SCOPE,
  BACKFILL_UNKNOWN,
  BACKFILL_WORKER_ONLY,
  DDL_FAILED,
} from './backfill.contract';
import { TenantIdSearchAttribute } from './searchAttributes';

export * from './backfill.contract';

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: {
    initialInterval: '1 second',
    maximumInterval: '15 seconds',
    maximumAttempts: 10,
    nonRetryableErrorTypes: [BACKFILL_UNKNOWN, BACKFILL_WORKER_ONLY],
  },
});
// A slice heartbeats after every batch: a killed worker is noticed within the heartbeat timeout and the slice resumes elsewhere.
const slices = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds', nonRetryableErrorTypes: [BACKFILL_UNKNOWN, BACKFILL_WORKER_ONLY] },
});
// A finishing DDL statement (VALIDATE, CREATE INDEX CONCURRENTLY) may scan a large table: no heartbeat while it runs.
const ddl = proxyActivities<Activities>({
  startToCloseTimeout: '1 hour',
  retry: { initialInterval: '2 seconds', maximumInterval: '30 seconds', maximumAttempts: 5, nonRetryableErrorTypes: [DDL_FAILED, BACKFILL_UNKNOWN] },
});

/** Passes over the table before rows that keep appearing behind the cursor count as a failure. */
const MAX_PASSES = 3;

export async function backfill(input: BackfillInput): Promise<BackfillProgress> {
  const info = workflowInfo();
  const runId = input.runId ?? info.firstExecutionRunId;
  const settings: BackfillSettings = { ...DEFAULT_BACKFILL_SETTINGS, ...input.settings, ...input.progress?.settings };
  const p: BackfillProgress = input.progress ?? {
    name: input.name,
    runId,
    scope: input.tenantId ? 'tenant' : 'platform',
    tenantId: input.tenantId ?? null,
    dryRun: input.dryRun ?? false,
    state: 'running',
    phase: 'starting',
    rowsDone: 0,
    rowsEstimated: 0,
    ratePerSec: 0,
    etaSeconds: null,
    batchSize: settings.initialBatch,
    lastKey: null,
    batches: 0,
    failures: 0,
    orphans: 0,
    pass: 1,
    settings,
    startedAt: new Date().toISOString(),
    finishedAt: null,
    error: null,
    finish: [],
    children: [],
    activeSeconds: 0,
    generation: 0,
  };
  p.settings = settings;
  let paused = input.paused ?? false;
  let cancelled = false;
  let resumed = false;

  const runningChildren = () => p.children.filter((c) => c.state === 'running' || c.state === 'paused');
  const forward = async (send: (id: string) => Promise<void>) => {
    for (const c of runningChildren()) {
      try {
        await send(c.workflowId);
      } catch (err) {
        log.warn('signal to a child failed', { workflowId: c.workflowId, error: (err as Error).message });
      }
    }
  };
  setHandler(progressQuery, () => ({ ...p, state: paused && p.state === 'running' ? 'paused' : p.state }));
  setHandler(pauseSignal, async () => {
    paused = true;
    await forward((id) => getExternalWorkflowHandle(id).signal(pauseSignal));
  });
  setHandler(resumeSignal, async () => {
    paused = false;
    resumed = true;
    await forward((id) => getExternalWorkflowHandle(id).signal(resumeSignal));
  });
  setHandler(cancelSignal, async () => {
    cancelled = true;
    await forward((id) => getExternalWorkflowHandle(id).signal(cancelSignal));
  });
  setHandler(setThrottleSignal, async (t) => {
    if (t.targetBatchMs !== undefined) settings.targetBatchMs = Math.max(10, Math.min(60_000, Math.floor(t.targetBatchMs)));
    if (t.sleepMs !== undefined) settings.sleepMs = Math.max(0, Math.min(60_000, Math.floor(t.sleepMs)));
    await forward((id) => getExternalWorkflowHandle(id).signal(setThrottleSignal, t));
  });

  const end = (state: BackfillProgress['state'], error: string | null = null): BackfillProgress => {
    p.state = state;
    p.error = error;
    p.finishedAt = new Date().toISOString();
    if (state === 'completed') p.phase = 'done';
    log.info('backfill ended', { name: p.name, tenantId: p.tenantId, state, rowsDone: p.rowsDone });
    return { ...p };
  };
  /** Waits out a pause; answers false when the run was cancelled. */
  const proceed = async (): Promise<boolean> => {
    await condition(() => cancelled || !paused);
    return !cancelled;
  };

  const described = await acts.describeBackfill({ name: input.name });
  if (p.finish.length === 0) p.finish = described.finish.map((step) => ({ step, status: 'waiting', attempts: 0 }));
  const isParent = described.scope === 'tenant' && !input.tenantId;
  if (described.scope === 'platform' && input.tenantId) throw ApplicationFailure.nonRetryable(`${input.name} is not tenant-scoped`, BACKFILL_SCOPE);
  p.scope = described.scope;

  if (isParent) {
    const outcome = await runChildren();
    if (outcome) return outcome;
  } else {
    const outcome = await runBatches();
    if (outcome) return outcome;
    if (p.scope === 'tenant') return end('completed');
  }
  if (p.dryRun || input.fillOnly) return end('completed');

  // The finish: table-wide constraints, each DDL under lock_timeout with retries.
  p.phase = 'finishing';
  for (const [i, f] of p.finish.entries()) {
    if (f.status === 'done') continue;
    if (!(await proceed())) return end('cancelled');
    try {
      const r = await ddl.runFinishStep({ name: p.name, runId, step: i, lockTimeoutMs: settings.ddlLockTimeoutMs, attempts: settings.ddlAttempts });
      f.attempts += r.attempts;
      f.status = 'done';
    } catch (err) {
      f.status = 'failed';
      return end('failed', `${f.step}: ${rootMessage(err)}`);
    }
  }
  return end('completed');

  /** The batches of one scope, then verification; answers the run's end when it ends here. */
  async function runBatches(): Promise<BackfillProgress | undefined> {
    if (p.phase === 'starting') {
      p.rowsEstimated = await acts.estimateBackfill({ name: p.name, tenantId: input.tenantId });
      p.phase = 'backfilling';
    }
    for (;;) {
      if (p.phase === 'backfilling') {
        if (!(await proceed())) return end('cancelled');
        const r = await slices.runBackfillSlice({
          name: p.name,
          tenantId: input.tenantId,
          runId: `${runId}#${p.pass}`,
          afterKey: p.lastKey,
          batchSize: p.batchSize,
          failures: p.failures,
          settings,
          dryRun: p.dryRun,
          budgetMs: input.sliceMs,
        });
        p.rowsDone += r.rowsDone;
        p.batches += r.batches;
        p.lastKey = r.afterKey;
        p.batchSize = r.batchSize;
        p.failures = r.failures;
        p.activeSeconds += r.ms / 1000;
        p.ratePerSec = p.activeSeconds > 0 ? Math.round(p.rowsDone / p.activeSeconds) : 0;
        p.rowsEstimated = Math.max(p.rowsEstimated, p.rowsDone);
        p.etaSeconds = p.ratePerSec > 0 ? Math.ceil(Math.max(0, p.rowsEstimated - p.rowsDone) / p.ratePerSec) : null;
        if (r.failures > settings.failureThreshold) {
          return end('failed', `${r.failures} rows failed (threshold ${settings.failureThreshold})${r.lastError ? `: ${r.lastError}` : ''}`);
        }
        if (!r.done) {
          if (workflowInfo().historyLength > (input.historyLimit ?? 2_000) || workflowInfo().continueAsNewSuggested) {
            p.generation += 1;
            await continueAsNew<typeof backfill>({ ...input, runId, progress: p, paused, settings });
          }
          continue;
        }
        p.phase = 'verifying';
        p.etaSeconds = 0;
      }
      const v = await acts.verifyBackfill({ name: p.name, tenantId: input.tenantId });
      p.orphans = v.orphans;
      if (v.remaining === 0 || p.dryRun) return undefined;
      if (v.remaining > v.orphans && p.pass < MAX_PASSES) {
        // Rows that arrived behind the cursor (or failed once): another pass from the start.
        p.pass += 1;
        p.lastKey = null;
        p.phase = 'backfilling';
        continue;
      }
      if (v.orphans === 0) return end('failed', `${v.remaining} rows still lack the column after ${p.pass} passes`);
      // Rows that cannot be derived: reported, never assigned. The operator fixes them and resumes.
      p.phase = 'orphans';
      p.state = 'blocked';
      if (p.scope === 'tenant') return end('blocked', `${v.orphans} rows cannot be derived (see the orphan report)`);
      resumed = false;
      await condition(() => cancelled || resumed);
      if (cancelled) return end('cancelled');
      p.state = 'running';
      p.error = null;
      p.pass += 1;
      p.lastKey = null;
      p.phase = 'backfilling';
    }
  }

  /** One child per tenant, at most `parallelism` at once; answers the run's end unless the finish comes next. */
  async function runChildren(): Promise<BackfillProgress | undefined> {
    if (p.phase === 'starting') {
      const tenants = await acts.backfillTenants();
      p.children = tenants.map((tenantId) => ({
        tenantId,
        workflowId: tenantBackfillWorkflowId(tenantId, p.name),
        state: 'waiting',
        rowsDone: 0,
        rowsEstimated: 0,
        failures: 0,
        orphans: 0,
      }));
      p.phase = 'backfilling';
    }
    for (;;) {
      const started: Promise<void>[] = [];
      let running = 0;
      for (const c of p.children.filter((x) => x.state === 'waiting')) {
        await condition(() => cancelled || (!paused && running < settings.parallelism));
        if (cancelled) break;
        running += 1;
        started.push(
          runChild(c).finally(() => {
            running -= 1;
          }),
        );
      }
      await Promise.all(started);
      p.rowsDone = p.children.reduce((n, c) => n + c.rowsDone, 0);
      p.rowsEstimated = p.children.reduce((n, c) => n + c.rowsEstimated, 0);
      p.failures = p.children.reduce((n, c) => n + c.failures, 0);
      p.orphans = p.children.reduce((n, c) => n + c.orphans, 0);
      if (cancelled) return end('cancelled');
      const failed = p.children.filter((c) => c.state === 'failed');
      if (failed.length > 0)
        return end('failed', `${failed.length} tenant(s) failed: ${failed.map((c) => `${c.tenantId}: ${c.error ?? 'failed'}`).join('; ')}`);
      const blocked = p.children.filter((c) => c.state === 'blocked');
      if (blocked.length === 0) {
        p.phase = p.dryRun ? 'done' : 'finishing';
        return undefined;
      }
      p.phase = 'orphans';
      p.state = 'blocked';
      p.error = `${p.orphans} rows in ${blocked.length} tenant(s) cannot be derived (see the orphan report)`;
      resumed = false;
      await condition(() => cancelled || resumed);
      if (cancelled) return end('cancelled');
      p.state = 'running';
      p.error = null;
      p.phase = 'backfilling';
      for (const c of blocked) c.state = 'waiting';
    }
  }

  async function runChild(c: ChildProgress): Promise<void> {
    c.state = 'running';
    c.error = undefined;
    try {
      const r = await executeChild(backfill, {
        workflowId: c.workflowId,
        args: [{ name: p.name, tenantId: c.tenantId, settings, dryRun: p.dryRun, runId, paused, historyLimit: input.historyLimit, sliceMs: input.sliceMs }],
        typedSearchAttributes: [{ key: TenantIdSearchAttribute, value: c.tenantId }],
      });
      c.state = r.state;
      c.rowsDone = r.rowsDone;
      c.rowsEstimated = r.rowsEstimated;
      c.failures = r.failures;
      c.orphans = r.orphans;
      if (r.error) c.error = r.error;
      if (r.state === 'failed' || r.state === 'cancelled') c.error = r.error ?? r.state;
    } catch (err) {
      c.state = 'failed';
      c.error = rootMessage(err);
    }
  }
}
