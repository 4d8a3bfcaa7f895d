// The backfill worker process: runs the backfill workflows on their own task
// queue with the owner connection (DATABASE_URL), which the finishing DDL
// (constraints, concurrent indexes, RLS) needs. It runs no tenant-facing code.
// The SDK shuts it down gracefully on SIGINT/SIGTERM.
import { NativeConnection } from '@temporalio/worker';
import { Pool } from 'pg';
import { config } from '../lib/config';
import { createLogger } from '../lib/log';
import { createBackfillWorker } from './createWorker';
import { bundleFile } from './workflowBundle';

async function main(): Promise<void> {
  const c = config();
  const log = createLogger('backfill-worker');
  if (!c.DATABASE_URL) throw new Error('DATABASE_URL is not set: the backfill worker connects as the owner role');
  const pool = new Pool({ connectionString: c.DATABASE_URL, application_name: 'tenantflow-backfill', max: 4 });
  const connection = await NativeConnection.connect({ address: c.temporalAddress });
  try {
    const worker = await createBackfillWorker({
      connection,
      namespace: c.TEMPORAL_NAMESPACE,
      taskQueue: c.TEMPORAL_BACKFILL_TASK_QUEUE,
      workflowBundle: bundleFile(c.TEMPORAL_WORKFLOW_BUNDLE),
      pool,
    });
    log.info({ taskQueue: c.TEMPORAL_BACKFILL_TASK_QUEUE }, 'backfill worker started');
    await worker.run();
    log.info('backfill worker stopped');
  } finally {
    await connection.close();
    await pool.end();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
