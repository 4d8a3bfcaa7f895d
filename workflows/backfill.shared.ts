// The backfill workflow's contract (spec §5.6): ids, settings, signals, the
// progress query, and the pure rule by which a batch size adapts to its
// target time. The API, the CLI, the activities and the tests import it here.
import { defineQuery, defineSignal } from '@temporalio/workflow';

export const BACKFILL = 'backfill';
/** The task queue of the backfill worker: the one process that holds the owner connection DDL needs. */
export const BACKFILL_TASK_QUEUE = 'tenantflow-backfill';

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

/**
 * The next batch size after a batch that took `ms`: toward the target time,
 * growing by at most ×1.2 and shrinking in proportion, within [min, max].
 */
export function nextBatchSize(size: number, ms: number, s: Pick<BackfillSettings, 'targetBatchMs' | 'minBatch' | 'maxBatch'>): number {
  const ratio = s.targetBatchMs / Math.max(ms, 1);
  const next = ratio >= 1 ? Math.floor(size * Math.min(1.2, ratio)) : Math.floor(size * ratio);
  return Math.max(s.minBatch, Math.min(s.maxBatch, Math.max(next, ratio >= 1 ? size : 0)));
}

/** After a timed-out batch: half, never below the minimum. */
export const halvedBatchSize = (size: number, minBatch: number) => Math.max(minBatch, Math.floor(size / 2));
