// Backfill test helpers: the backfill worker (in-process, or as a real process
// to kill), an owner-role pool, the legacy import, an update counter that
// proves each row was changed by the backfill exactly once, and a concurrent
// writer that keeps inserting and updating the table the way the product would.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { type Client, type WorkflowHandle } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { Pool } from 'pg';
import { generateLegacyBookings } from '../../migrations/backfills/legacyTenantId';
import { type Sql } from '../../migrations/backfills';
import { ROOT } from '../../scripts/lib/tools';
import {
  BACKFILL,
  type BackfillInput,
  type BackfillProgress,
  type BackfillSettings,
  platformBackfillWorkflowId,
  progressQuery,
} from '../../workflows/backfill.contract';
import { createBackfillWorker } from '../../worker/createWorker';
import { projectWorkflowBundle, quietRuntime, temporalAddress } from './temporal';

/** The backfill engine's own application name: the update counter counts only its updates. */
export const BACKFILL_APP = 'tenantflow-backfill';

export function ownerPool(url: string, applicationName = 'tenantflow-test', max = 4): Pool {
  const pool = new Pool({ connectionString: url, application_name: applicationName, max });
  // An idle client dropped with the suite's database is no failure.
  pool.on('error', () => undefined);
  return pool;
}

/**
 * `n` leads of one customer written as before leads.email_domain existed (no
 * domain), `person{i}@mail{i % 4}.example`, ids in insertion order.
 */
export async function insertLegacyLeads(pool: Pool, tenantId: string, customerId: string, n: number): Promise<void> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    await c.query("SELECT set_config('app.tenant_id', $1, true)", [tenantId]);
    await c.query(
      `INSERT INTO leads (tenant_id, id, customer_id, email, source)
       SELECT $1::uuid, 'lead_' || lpad(i::text, 26, '0'), $2, 'person' || i || '@mail' || (i % 4) || '.example', 'api'
         FROM generate_series(1, $3::int) i`,
      [tenantId, customerId, n],
    );
    await c.query('COMMIT');
  } finally {
    c.release();
  }
}

export const sqlOf =
  (pool: Pool): Sql =>
  (text, params) =>
    pool.query(text, params) as ReturnType<Sql>;

export interface RunningWorker {
  stop(): Promise<void>;
}

/** The backfill worker (same factory as production) inside the test process. */
export async function startBackfillWorker(opts: { ownerUrl: string; taskQueue: string }): Promise<RunningWorker> {
  quietRuntime();
  const pool = ownerPool(opts.ownerUrl, BACKFILL_APP);
  const connection = await NativeConnection.connect({ address: temporalAddress() });
  const worker: Worker = await createBackfillWorker({
    connection,
    namespace: 'default',
    taskQueue: opts.taskQueue,
    pool,
    workflowBundle: await projectWorkflowBundle(),
  });
  const running = worker.run();
  return {
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch(() => undefined);
      await connection.close();
      await pool.end();
    },
  };
}

/** The backfill worker as production runs it (`node --import tsx worker/backfillMain.ts`), to be killed. */
export function startBackfillWorkerProcess(opts: { ownerUrl: string; taskQueue: string }): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'worker', 'backfillMain.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: opts.ownerUrl,
      TEMPORAL_ADDRESS: temporalAddress(),
      TEMPORAL_BACKFILL_TASK_QUEUE: opts.taskQueue,
      LOG_LEVEL: 'warn',
    },
    stdio: 'ignore',
  });
}

/** Adds `backfill_updates` to the table, counting every update the backfill's sessions make to a row. */
export async function installUpdateCounter(pool: Pool, table: string): Promise<void> {
  await pool.query(`ALTER TABLE ${table} ADD COLUMN backfill_updates integer NOT NULL DEFAULT 0`);
  await pool.query(`
    CREATE FUNCTION count_backfill_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF current_setting('application_name') = '${BACKFILL_APP}' THEN NEW.backfill_updates := OLD.backfill_updates + 1; END IF;
      RETURN NEW;
    END $$`);
  await pool.query(`CREATE TRIGGER count_backfill_update BEFORE UPDATE ON ${table} FOR EACH ROW EXECUTE FUNCTION count_backfill_update()`);
}

export async function importLegacy(pool: Pool, tenantIds: string[], rows: number, orphans = 0): Promise<{ firstId: number; lastId: number }> {
  const r = await generateLegacyBookings(sqlOf(pool), { tenantIds, rows, orphans });
  await pool.query('ANALYZE legacy_bookings');
  return r;
}

export interface Writer {
  stop(): Promise<{ inserts: number; updates: number; errors: string[] }>;
}

/**
 * The product still writing while the backfill runs: in its tenant's context
 * it inserts bookings that already carry their tenant (new code writes the
 * column) and updates existing ones, in short transactions, as fast as it can.
 */
export function startLegacyWriter(ownerUrl: string, opts: { tenantIds: string[]; maxId: number; services: number }): Writer {
  const pool = ownerPool(ownerUrl, 'legacy-writer', 2);
  const stats = { inserts: 0, updates: 0, errors: [] as string[] };
  let stopped = false;
  let nextId = 50_000_000;
  const loop = async () => {
    let i = 0;
    while (!stopped) {
      i += 1;
      // Service k and client k belong to tenant (k - 1) % n.
      const k = 1 + (i % opts.services);
      const tenant = opts.tenantIds[(k - 1) % opts.tenantIds.length]!;
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        await c.query("SELECT set_config('app.tenant_id', $1, true)", [tenant]);
        await c.query('INSERT INTO legacy_bookings (id, service_id, client_id, tenant_id, notes) VALUES ($1, $2, $2, $3, $4)', [
          nextId++,
          k,
          tenant,
          'new booking',
        ]);
        stats.inserts += 1;
        const r = await c.query('UPDATE legacy_bookings SET notes = $2, updated_at = now() WHERE id = $1', [1 + ((i * 7919) % opts.maxId), `edited ${i}`]);
        stats.updates += r.rowCount ?? 0;
        await c.query('COMMIT');
      } catch (err) {
        await c.query('ROLLBACK').catch(() => undefined);
        stats.errors.push((err as Error).message);
      } finally {
        c.release();
      }
      if (i % 20 === 0) await new Promise((r) => setTimeout(r, 5));
    }
  };
  const running = loop();
  return {
    async stop() {
      stopped = true;
      await running;
      await pool.end();
      return stats;
    },
  };
}

export type BackfillHandle = WorkflowHandle<(input: BackfillInput) => Promise<BackfillProgress>>;

export async function startBackfill(
  client: Client,
  taskQueue: string,
  name: string,
  opts: { settings?: Partial<BackfillSettings>; dryRun?: boolean; historyLimit?: number; sliceMs?: number; workflowId?: string } = {},
): Promise<BackfillHandle> {
  const input: BackfillInput = { name, settings: opts.settings, dryRun: opts.dryRun, historyLimit: opts.historyLimit, sliceMs: opts.sliceMs };
  // Suites share one Temporal server: each run gets its own id under the product's (the API's own runs use the product's id).
  const workflowId = opts.workflowId ?? `${platformBackfillWorkflowId(name)}/test-${randomUUID()}`;
  return client.workflow.start(BACKFILL, { taskQueue, workflowId, args: [input] });
}

export const progressOf = (h: WorkflowHandle): Promise<BackfillProgress> => h.query(progressQuery);

export interface BatchRecord {
  first_key: string | null;
  last_key: string;
  size: number;
  rows: number;
  duration_ms: number;
  status: 'applied' | 'timeout' | 'failed';
  run_id: string;
}

export async function batchRecords(pool: Pool, name: string): Promise<BatchRecord[]> {
  return (await pool.query('SELECT first_key, last_key, size, rows, duration_ms, status, run_id FROM backfill_batches WHERE backfill = $1 ORDER BY id', [name]))
    .rows;
}
