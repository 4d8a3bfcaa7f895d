// Builds the project's Temporal worker from its dependencies, so `npm start`,
// the production image and the tests all run the same worker.
import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { type Pool } from 'pg';
import { type Activities, type ActivityDeps, createActivities } from '../activities';
import { createBackfillActivities } from '../activities/backfill';
import { WORKFLOWS_PATH } from './workflowBundle';

export interface CreateWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** What the activities are built from (database, Stripe, provider, keyring, …): one object, passed on whole. */
  activities: ActivityDeps;
  /** Replace some activities (tests inject faults this way). */
  activityOverrides?: Partial<Activities>;
  /** A pre-built bundle, as code or a file (TEMPORAL_WORKFLOW_BUNDLE, the tests' file); otherwise workflows are bundled from source at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  identity?: string;
  /** The sticky cache's size (TEMPORAL_MAX_CACHED_WORKFLOWS); the SDK's default when unset. */
  maxCachedWorkflows?: number;
}

type WorkerBase = Pick<CreateWorkerOptions, 'connection' | 'namespace' | 'taskQueue' | 'workflowBundle' | 'identity' | 'maxCachedWorkflows'>;

/** Every workflow of the project (a pre-built bundle, or bundled from source) with the given activities. */
function projectWorker(opts: WorkerBase, activities: WorkerOptions['activities']): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    ...(opts.identity ? { identity: opts.identity } : {}),
    ...(opts.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: opts.maxCachedWorkflows } : {}),
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    activities,
  });
}

export async function createWorker(opts: CreateWorkerOptions): Promise<Worker> {
  return projectWorker(opts, { ...createActivities(opts.activities), ...opts.activityOverrides });
}

export interface CreateBackfillWorkerOptions extends WorkerBase {
  /** The owner-role pool: backfills write across a table and run the finishing DDL. */
  pool: Pool;
}

/**
 * The backfill worker: the backfill workflows and their activities on their
 * own task queue, in the one process that holds the owner connection. The
 * product's worker (application role) never runs them.
 */
export async function createBackfillWorker(opts: CreateBackfillWorkerOptions): Promise<Worker> {
  return projectWorker(opts, createBackfillActivities({ backfillPool: opts.pool }));
}
