// The backfill workflow's contract: ids, settings, signals and the progress
// query. The API, the CLI, the activities and the tests import it here; the
// rule by which a batch size adapts to its target time is in backfill.rules.ts.
import { defineQuery, defineSignal } from '@temporalio/workflow';

export const BACKFILL = 'backfill';
/** The task queue of the backfill worker: the one process that holds the owner connection DDL needs. */
export const BACKFILL_TASK_QUEUE = 'tenantflow-backfill';

/** Failure types (ApplicationFailure `type`) of the engine: no backfill has the name (not retried). */
export const BACKFILL_UNKNOWN = 'backfill_unknown';
/** A batch reached a worker without the owner connection (not retried: only the backfill worker runs them). */
export const BACKFILL_WORKER_ONLY = 'backfill_worker_only';
/** The backfill has no finishing step of that name (not retried). */
export const BACKFILL_STEP_UNKNOWN = 'backfill_step_unknown';
/** A platform backfill was asked to run for one tenant (the workflow's own refusal). */
export const BACKFILL_SCOPE = 'backfill_scope';
/** A finishing DDL statement got no lock in its attempts (retried by the workflow's policy). */
export const DDL_LOCK_TIMEOUT = 'ddl_lock_timeout';
/** A finishing DDL statement failed for another reason (not retried). */
export const DDL_FAILED = 'ddl_failed';

export const platformBackfillWorkflowId = (name: string) => `platform/backfill/${name}`;
export const tenantBackfillWorkflowId = (tenantId: string, name: string) => `tenant/${tenantId}/backfill/${name}`;

export interface BackfillSettings {
  /** The time one batch should take (its transaction, hence its locks). */
  targetBatchMs: number;
  /** Pause between batches (throttle). */
  sleepMs: number;
  minBatch: number;
  maxBatch: number;
  /** The first batch's size. */
  initialBatch: number;
  /** Attempts of a failing batch before it is split in halves. */
  batchAttempts: number;
  /** The run stops once more rows than this have failed for good. */
  failureThreshold: number;
  /** Tenant-scoped backfills: children at most running at once. */
  parallelism: number;
  /** `lock_timeout` of each finishing DDL statement, and how often one is tried. */
  ddlLockTimeoutMs: number;
  ddlAttempts: number;
}

export const DEFAULT_BACKFILL_SETTINGS: BackfillSettings = {
  targetBatchMs: 200,
  sleepMs: 0,
  minBatch: 10,
  maxBatch: 20_000,
  initialBatch: 200,
  batchAttempts: 3,
  failureThreshold: 10,
  parallelism: 4,
  ddlLockTimeoutMs: 2_000,
  ddlAttempts: 30,
};

export type BackfillState = 'running' | 'paused' | 'blocked' | 'cancelled' | 'failed' | 'completed';
export type BackfillPhase = 'starting' | 'backfilling' | 'verifying' | 'orphans' | 'finishing' | 'done';

export interface BatchSample {
  /** Rows the batch covered (its size) and changed. */
  size: number;
  rows: number;
  ms: number;
  status: 'applied' | 'timeout' | 'failed';
}

export interface ChildProgress {
  tenantId: string;
  workflowId: string;
  state: BackfillState | 'waiting';
  rowsDone: number;
  rowsEstimated: number;
  failures: number;
  orphans: number;
  error?: string;
}

export interface FinishProgress {
  step: string;
  status: 'waiting' | 'done' | 'failed';
  attempts: number;
}

export interface BackfillProgress {
  name: string;
  /** The run its batch records name (the first run's id; a child carries its parent's). */
  runId: string;
  scope: 'platform' | 'tenant';
  tenantId: string | null;
  dryRun: boolean;
  state: BackfillState;
  phase: BackfillPhase;
  rowsDone: number;
  rowsEstimated: number;
  ratePerSec: number;
  etaSeconds: number | null;
  batchSize: number;
  lastKey: string | null;
  batches: number;
  failures: number;
  orphans: number;
  pass: number;
  settings: BackfillSettings;
  startedAt: string;
  finishedAt: string | null;
  error: string | null;
  finish: FinishProgress[];
  children: ChildProgress[];
  /** Seconds spent in batches (not paused): the rate's denominator. */
  activeSeconds: number;
  /** Continue-as-new generations so far. */
  generation: number;
}

export interface BackfillInput {
  name: string;
  /** Set for a tenant's child run. */
  tenantId?: string;
  settings?: Partial<BackfillSettings>;
  /** Count and report, change nothing, add no constraint. */
  dryRun?: boolean;
  /** Fill and verify, and leave the finishing steps to a later run (a maintenance window; the benchmark). */
  fillOnly?: boolean;
  /** The run every batch record belongs to (the first run's id; kept across continue-as-new). */
  runId?: string;
  /** Carried over by continue-as-new. */
  progress?: BackfillProgress;
  paused?: boolean;
  /** Continue as new past this many history events (default 2,000; tests lower it). */
  historyLimit?: number;
  /** How long one activity slice runs batches before the run looks at its signals again (default 2 s). */
  sliceMs?: number;
}

export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
export const cancelSignal = defineSignal('cancel');
export const setThrottleSignal = defineSignal<[{ targetBatchMs?: number; sleepMs?: number }]>('setThrottle');
export const progressQuery = defineQuery<BackfillProgress>('progress');
