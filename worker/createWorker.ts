// Builds the project's Temporal worker from its dependencies, so `npm start`,
// the production image and the tests all run the same worker.
import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type Stripe from 'stripe';
import { type DataSource } from 'typeorm';
import { type Activities, createActivities } from '../activities';
import { type Keyring } from '../lib/encryption';
import { type OutboundPolicy } from '../lib/outbound';

export const WORKFLOWS_PATH = require.resolve('../workflows');

export interface CreateWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  dataSource: DataSource;
  stripe?: Stripe;
  consoleUrl?: string;
  smartlead?: { baseUrl: string; apiKey: string };
  keyring?: Keyring;
  /** Public API URL (List-Unsubscribe links). */
  apiUrl?: string;
  /** Internal SMTP hosts tenants may use (the local sink). */
  outbound?: OutboundPolicy;
  /** Replace some activities (tests inject faults this way). */
  activityOverrides?: Partial<Activities>;
  /** A pre-built bundle (tests reuse one); otherwise workflows are bundled from source. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  identity?: string;
}

export async function createWorker(opts: CreateWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    ...(opts.identity ? { identity: opts.identity } : {}),
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    activities: {
      ...createActivities({
        dataSource: opts.dataSource,
        stripe: opts.stripe,
        consoleUrl: opts.consoleUrl,
        smartlead: opts.smartlead,
        keyring: opts.keyring,
        apiUrl: opts.apiUrl,
        outbound: opts.outbound,
      }),
      ...opts.activityOverrides,
    },
  });
}
