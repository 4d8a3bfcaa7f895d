// The legacy tenant backfill (`legacy-tenant-id`) as a durable workflow on the
// real server and database (docs/operations.md, "Backfills"): a million generated rows filled while a
// writer keeps inserting and updating, every batch's lock time bounded; pause
// holds and cancel is per batch; orphans stop the finish and are reported; the
// finishing DDL never waits past lock_timeout; a SIGKILLed worker resumes and
// no row is updated twice.
import { type ChildProcess } from 'node:child_process';
import { type Client, type Connection } from '@temporalio/client';
import { type Pool } from 'pg';
import { type DataSource } from 'typeorm';
import {
  batchRecords,
  importLegacy,
  insertLegacyLeads,
  installUpdateCounter,
  ownerPool,
  progressOf,
  startBackfill,
  startBackfillWorker,
  startBackfillWorkerProcess,
  startLegacyWriter,
  type RunningWorker,
} from '../test/helpers/backfill';
import { createTestDatabase, openDataSource, type TestDatabase } from '../test/helpers/database';
import { createTenant } from '../test/helpers/fixtures';
import { until } from '../test/helpers/processes';
import { connectClient, uniqueTaskQueue } from '../test/helpers/temporal';
import { type BackfillDeps, controlBackfill } from '../services/platform/backfills';
import { BACKFILL, cancelSignal, pauseSignal, resumeSignal, tenantBackfillWorkflowId, type BackfillProgress } from './backfill.contract';

const NAME = 'legacy-tenant-id';
let client: Client;
let connection: Connection;

beforeAll(async () => {
  ({ client, connection } = await connectClient());
});
afterAll(async () => {
  await connection?.close();
});

interface Setup {
  db: TestDatabase;
  owner: DataSource;
  pool: Pool;
  tenantIds: string[];
  taskQueue: string;
}

async function setup(label: string, rows: number, orphans = 0): Promise<Setup> {
  const db = await createTestDatabase(label);
  const owner = await openDataSource(db.ownerUrl);
  const tenantIds: string[] = [];
  for (let i = 0; i < 3; i++) tenantIds.push((await createTenant(owner)).tenant.id);
  const pool = ownerPool(db.ownerUrl);
  await installUpdateCounter(pool, 'legacy_bookings');
  await importLegacy(pool, tenantIds, rows, orphans);
  return { db, owner, pool, tenantIds, taskQueue: uniqueTaskQueue('backfill') };
}

async function teardown(s: Setup | undefined, workers: (RunningWorker | undefined)[] = []): Promise<void> {
  for (const w of workers) await w?.stop();
  await s?.pool.end();
  await s?.owner.destroy();
  await s?.db.drop();
}

/** Every imported row's tenant is the one its service or client names; each was changed by the backfill exactly once. */
async function expectDerivedExactlyOnce(pool: Pool, orphans = 0): Promise<void> {
  // The legacy tables are under FORCE RLS once finished: look as the owner with RLS lifted for this check.
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    for (const t of ['legacy_bookings', 'legacy_services', 'legacy_clients']) await c.query(`ALTER TABLE ${t} NO FORCE ROW LEVEL SECURITY`);
    const r = await c.query(`
      SELECT count(*) FILTER (WHERE b.id < 50000000)::int AS imported,
             count(*) FILTER (WHERE b.id < 50000000 AND b.tenant_id IS DISTINCT FROM coalesce(s.tenant_id, c.tenant_id))::int AS wrong,
             count(*) FILTER (WHERE b.id < 50000000 AND b.tenant_id IS NOT NULL AND b.backfill_updates <> 1)::int AS not_once,
             count(*) FILTER (WHERE b.id >= 50000000 AND b.backfill_updates <> 0)::int AS writer_rows_touched
        FROM legacy_bookings b LEFT JOIN legacy_services s ON s.id = b.service_id LEFT JOIN legacy_clients c ON c.id = b.client_id`);
    await c.query('ROLLBACK');
    expect(r.rows[0]).toEqual({ imported: expect.any(Number), wrong: orphans, not_once: 0, writer_rows_touched: 0 });
  } finally {
    c.release();
  }
}

async function finishedSchema(pool: Pool) {
  const r = await pool.query(`
    SELECT (SELECT attnotnull FROM pg_attribute WHERE attrelid = 'legacy_bookings'::regclass AND attname = 'tenant_id') AS not_null,
           (SELECT array_agg(conname::text || ':' || convalidated::text ORDER BY conname) FROM pg_constraint
             WHERE conrelid = 'legacy_bookings'::regclass AND contype IN ('f', 'c')) AS constraints,
           (SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('legacy_bookings_tenant_idx')) AS index_valid,
           (SELECT array_agg(relname::text || ':' || relforcerowsecurity::text ORDER BY relname) FROM pg_class
             WHERE relname IN ('legacy_bookings', 'legacy_clients', 'legacy_services')) AS forced`);
  return r.rows[0];
}

describe('a 1,000,000-row legacy backfill under a concurrent writer', () => {
  let s: Setup;
  let worker: RunningWorker;
  afterAll(async () => teardown(s, [worker]));

  it('ends correct, each row updated once, with no batch holding its locks past twice the target, and finishes under the writer', async () => {
    s = await setup('bf_million', 1_000_000);
    worker = await startBackfillWorker({ ownerUrl: s.db.ownerUrl, taskQueue: s.taskQueue });
    const writer = startLegacyWriter(s.db.ownerUrl, { tenantIds: s.tenantIds, maxId: 1_000_000, services: 50 });
    const targetBatchMs = 250;
    const handle = await startBackfill(client, s.taskQueue, NAME, { settings: { targetBatchMs, maxBatch: 50_000, initialBatch: 1_000 } });
    const outcome = await handle.result().then(
      (r) => ({ r }),
      (e: unknown) => ({ e }),
    );
    const stats = await writer.stop();
    if ('e' in outcome) throw outcome.e;
    const done: BackfillProgress = outcome.r;
    expect(stats.errors).toEqual([]);
    expect(stats.inserts).toBeGreaterThan(50);
    expect(stats.updates).toBeGreaterThan(50);
    expect(done).toMatchObject({ state: 'completed', phase: 'done', failures: 0, orphans: 0, rowsDone: 1_000_000 });
    expect(done.finish.map((f) => f.status)).toEqual(['done', 'done', 'done', 'done', 'done']);

    const batches = await batchRecords(s.pool, NAME);
    const applied = batches.filter((b) => b.status === 'applied');
    expect(applied.reduce((n, b) => n + b.rows, 0)).toBe(1_000_000);
    // Lock time is the batch transaction's: no applied batch took longer than twice the target;
    // a batch that would have was cut off by its statement deadline (a timeout record) and halved.
    expect(Math.max(...applied.map((b) => b.duration_ms))).toBeLessThanOrEqual(2 * targetBatchMs);
    for (const b of batches.filter((x) => x.status === 'timeout')) expect(b.duration_ms).toBeLessThanOrEqual(2 * targetBatchMs + 100);
    // The size adapted to the target (the ×1.2 / halving rule itself: backfill.rules.test.ts).
    expect(Math.max(...applied.map((b) => b.size))).toBeGreaterThan(1_000);

    await expectDerivedExactlyOnce(s.pool);
    expect(await finishedSchema(s.pool)).toEqual({
      not_null: true,
      // The composite and the tenant foreign key, validated; the NOT NULL check is gone again (the column is NOT NULL).
      constraints: [
        'legacy_bookings_client_fk:true',
        'legacy_bookings_client_id_fkey:true',
        'legacy_bookings_service_id_fkey:true',
        'legacy_bookings_tenant_fk:true',
      ],
      index_valid: true,
      forced: ['legacy_bookings:true', 'legacy_clients:true', 'legacy_services:true'],
    });
  });
});

describe('pause, resume and cancel', () => {
  let s: Setup;
  let worker: RunningWorker;
  afterAll(async () => teardown(s, [worker]));

  const changed = async () => Number((await s.pool.query('SELECT count(*)::int AS n FROM legacy_bookings WHERE tenant_id IS NOT NULL')).rows[0].n);

  it('pause holds (nothing changes while paused), resume goes on, and cancel leaves every batch whole or untouched', async () => {
    s = await setup('bf_pause', 60_000);
    worker = await startBackfillWorker({ ownerUrl: s.db.ownerUrl, taskQueue: s.taskQueue });
    // Slow on purpose: small batches with a pause between them, so the run is still going when signalled.
    const handle = await startBackfill(client, s.taskQueue, NAME, { settings: { targetBatchMs: 50, maxBatch: 500, initialBatch: 200, sleepMs: 40 } });
    await until('some rows done', async () => (await changed()) > 1_000);
    await handle.signal(pauseSignal);
    await until('paused', async () => (await progressOf(handle)).state === 'paused' && ((await handle.describe()).raw.pendingActivities?.length ?? 0) === 0);
    const atPause = await changed();
    await new Promise((r) => setTimeout(r, 2_500));
    expect(await changed()).toBe(atPause);
    expect((await progressOf(handle)).state).toBe('paused');

    await handle.signal(resumeSignal);
    await until('moving again', async () => (await changed()) > atPause);
    await handle.signal(cancelSignal);
    const end = await handle.result();
    expect(end.state).toBe('cancelled');
    expect(end.finish.every((f) => f.status === 'waiting')).toBe(true);

    // Every applied batch is whole (each of its rows has its tenant) and nothing past the last one changed.
    const applied = (await batchRecords(s.pool, NAME)).filter((b) => b.status === 'applied');
    const lastKey = Math.max(...applied.map((b) => Number(b.last_key)));
    const r = await s.pool.query(
      `SELECT count(*) FILTER (WHERE id <= $1 AND tenant_id IS NULL)::int AS holes,
              count(*) FILTER (WHERE id > $1 AND tenant_id IS NOT NULL)::int AS beyond,
              count(*) FILTER (WHERE id <= $1)::int AS covered
         FROM legacy_bookings`,
      [lastKey],
    );
    expect(r.rows[0]).toEqual({ holes: 0, beyond: 0, covered: lastKey });
    expect(await changed()).toBe(lastKey);
    expect(applied.reduce((n, b) => n + b.rows, 0)).toBe(lastKey);
  });
});

describe('a long run', () => {
  let s: Setup;
  let worker: RunningWorker;
  afterAll(async () => teardown(s, [worker]));

  it('continues as new, carrying its cursor, counts and settings, and still updates each row once', async () => {
    s = await setup('bf_can', 4_000);
    worker = await startBackfillWorker({ ownerUrl: s.db.ownerUrl, taskQueue: s.taskQueue });
    const handle = await startBackfill(client, s.taskQueue, NAME, { settings: { maxBatch: 50, sleepMs: 5 }, sliceMs: 150, historyLimit: 20 });
    const firstRun = (await handle.describe()).runId;
    const end = await client.workflow.getHandle(handle.workflowId).result();
    expect(end.generation).toBeGreaterThan(1);
    expect((await client.workflow.getHandle(handle.workflowId).describe()).runId).not.toBe(firstRun);
    expect(end).toMatchObject({ state: 'completed', rowsDone: 4_000, runId: firstRun, settings: { maxBatch: 50, sleepMs: 5 } });
    // Every run of the chain wrote its batches under the first run's id: one unbroken chain of keys.
    const applied = (await batchRecords(s.pool, NAME)).filter((b) => b.status === 'applied');
    expect(new Set(applied.map((b) => b.run_id))).toEqual(new Set([`${firstRun}#1`]));
    for (let i = 1; i < applied.length; i++) expect(applied[i]!.first_key).toBe(applied[i - 1]!.last_key);
    await expectDerivedExactlyOnce(s.pool);
  });
});

describe('orphans and the finish under a held lock', () => {
  let s: Setup;
  let worker: RunningWorker;
  afterAll(async () => teardown(s, [worker]));

  it('stops before the finish and reports rows that cannot be derived; once fixed and resumed, finishes without waiting past lock_timeout', async () => {
    s = await setup('bf_orphans', 20_000, 7);
    // One booking names a service of one tenant and a client of another: never assigned.
    await s.pool.query('UPDATE legacy_bookings SET service_id = 1, client_id = 2 WHERE id = 100');
    worker = await startBackfillWorker({ ownerUrl: s.db.ownerUrl, taskQueue: s.taskQueue });
    const handle = await startBackfill(client, s.taskQueue, NAME, { settings: { ddlLockTimeoutMs: 300 } });
    const blocked = await until('blocked on orphans', async () => {
      const p = await progressOf(handle);
      return p.state === 'blocked' ? p : undefined;
    });
    expect(blocked).toMatchObject({ phase: 'orphans', orphans: 8, rowsDone: 20_000 - 8 });
    expect(blocked.finish.every((f) => f.status === 'waiting')).toBe(true);
    const report = await s.pool.query('SELECT row_key, reason FROM backfill_orphans WHERE backfill = $1 ORDER BY row_key::bigint', [NAME]);
    expect(report.rows).toHaveLength(8);
    expect(report.rows[0]).toEqual({ row_key: '100', reason: 'service 1 and client 2 belong to different tenants' });
    expect(report.rows[1].reason).toBe('neither a service nor a client names its tenant');
    // Nothing was assigned to them, and no constraint went on.
    expect(Number((await s.pool.query('SELECT count(*)::int AS n FROM legacy_bookings WHERE tenant_id IS NULL')).rows[0].n)).toBe(8);
    expect((await finishedSchema(s.pool)).not_null).toBe(false);

    // The operator decides: the orphans get their client. A writer holds a lock on the table meanwhile.
    await s.pool.query('UPDATE legacy_bookings SET service_id = NULL, client_id = 1 WHERE tenant_id IS NULL');
    const holder = await s.pool.connect();
    await holder.query('BEGIN');
    await holder.query("UPDATE legacy_bookings SET notes = 'held' WHERE id = 1");
    await handle.signal(resumeSignal);
    await until('a DDL attempt gave up on its lock', async () =>
      Number((await s.pool.query("SELECT count(*)::int AS n FROM backfill_ddl WHERE outcome = 'lock_timeout'")).rows[0].n) >= 2 ? true : undefined,
    );
    await holder.query('COMMIT');
    holder.release();
    const end = await handle.result();
    expect(end).toMatchObject({ state: 'completed', orphans: 0 });
    const ddl = await s.pool.query('SELECT step, outcome, duration_ms FROM backfill_ddl WHERE backfill = $1 ORDER BY id', [NAME]);
    const timeouts = ddl.rows.filter((d) => d.outcome === 'lock_timeout');
    expect(timeouts.length).toBeGreaterThanOrEqual(2);
    // No attempt waited on its lock past lock_timeout (300 ms, and a little for the round trip).
    for (const d of timeouts) expect(d.duration_ms).toBeLessThan(300 + 250);
    expect(ddl.rows.filter((d) => d.outcome === 'done').map((d) => d.step)).toEqual(
      expect.arrayContaining(['not_null:tenant_id/add_check', 'not_null:tenant_id/set_not_null', 'index:legacy_bookings_tenant_idx/create']),
    );
    expect(Number((await s.pool.query('SELECT count(*)::int AS n FROM backfill_orphans WHERE backfill = $1', [NAME])).rows[0].n)).toBe(0);
    await expectDerivedExactlyOnce(s.pool);
  });
});

describe('a worker killed mid-batch', () => {
  let s: Setup;
  let worker: RunningWorker | undefined;
  const processes: ChildProcess[] = [];
  afterAll(async () => {
    for (const p of processes) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    await teardown(s, [worker]);
  });

  it('resumes from the heartbeated key on a new worker and updates every row exactly once', async () => {
    s = await setup('bf_kill', 150_000);
    const first = startBackfillWorkerProcess({ ownerUrl: s.db.ownerUrl, taskQueue: s.taskQueue });
    processes.push(first);
    const handle = await startBackfill(client, s.taskQueue, NAME, { settings: { targetBatchMs: 300, maxBatch: 2_000, initialBatch: 1_000 } });
    // Kill it while an update of a batch is running in the database.
    await until(
      'a batch in flight',
      async () =>
        (
          await s.pool.query(
            "SELECT 1 FROM pg_stat_activity WHERE application_name = 'tenantflow-backfill' AND state = 'active' AND query LIKE 'UPDATE legacy_bookings%'",
          )
        ).rowCount! > 0 && Number((await s.pool.query('SELECT count(*)::int AS n FROM backfill_batches')).rows[0].n) > 5,
      120_000,
    );
    first.kill('SIGKILL');
    const batchesAtKill = (await batchRecords(s.pool, NAME)).filter((b) => b.status === 'applied').length;
    worker = await startBackfillWorker({ ownerUrl: s.db.ownerUrl, taskQueue: s.taskQueue });
    const end = await handle.result();
    expect(end).toMatchObject({ state: 'completed', rowsDone: 150_000 });

    // The slice ran again (a retry after the heartbeat timeout), and the applied batches chain
    // key to key with no gap and no overlap: the new worker went on from where the old one stopped.
    const history = await handle.fetchHistory();
    const retried = history.events!.some((e) => (e.activityTaskStartedEventAttributes?.attempt ?? 1) > 1);
    expect(retried).toBe(true);
    const applied = (await batchRecords(s.pool, NAME)).filter((b) => b.status === 'applied' && b.run_id.endsWith('#1'));
    expect(applied.length).toBeGreaterThan(batchesAtKill);
    for (let i = 1; i < applied.length; i++) expect(applied[i]!.first_key).toBe(applied[i - 1]!.last_key);
    await expectDerivedExactlyOnce(s.pool);
  });
});

describe('control calls that race the run', () => {
  const LEADS = 'leads-email-domain';
  const actor = { userId: null, requestId: 'race-test' };
  let db: TestDatabase;
  let owner: DataSource;
  let pool: Pool;
  let worker: RunningWorker;
  let taskQueue: string;
  let deps: BackfillDeps;

  beforeAll(async () => {
    db = await createTestDatabase('bf_control');
    owner = await openDataSource(db.ownerUrl);
    pool = ownerPool(db.ownerUrl);
    taskQueue = uniqueTaskQueue('backfill-control');
    worker = await startBackfillWorker({ ownerUrl: db.ownerUrl, taskQueue });
    deps = { client, backfillTaskQueue: taskQueue };
  });
  afterAll(async () => {
    await worker?.stop();
    await pool?.end();
    await owner?.destroy();
    await db?.drop();
  });

  /** A tenant with `n` leads whose domain is still to be derived, and its run of the lead-domain backfill. */
  async function tenantRun(n: number, opts: { historyLimit?: number; sliceMs?: number } = {}) {
    const fixture = await createTenant(owner, { customers: 1 });
    const tenantId = fixture.tenant.id;
    await insertLegacyLeads(pool, tenantId, fixture.customers[0]!.id, n);
    const handle = await client.workflow.start(BACKFILL, {
      taskQueue,
      workflowId: tenantBackfillWorkflowId(tenantId, LEADS),
      args: [{ name: LEADS, tenantId, settings: { maxBatch: 50, sleepMs: 20 }, ...opts }],
    });
    await until('running', async () => (await progressOf(handle).catch(() => undefined))?.state === 'running');
    return { tenantId, handle };
  }

  const audited = async (tenantId: string) =>
    Number(
      (await pool.query("SELECT count(*)::int AS n FROM platform_audit_log WHERE target_id = $1 AND details->>'tenantId' = $2", [LEADS, tenantId])).rows[0].n,
    );

  it('answers 409 backfill_not_running to a signal that reaches the run after it completed, and audits nothing', async () => {
    const { tenantId, handle } = await tenantRun(2_000);
    // The signal leaves the API while the run is running and reaches the server after the run has closed.
    const late = (id: string) => {
      const real = client.workflow.getHandle(id);
      return {
        signal: async (...args: Parameters<typeof real.signal>) => {
          await real.signal(cancelSignal);
          await real.result();
          return real.signal(...args);
        },
      };
    };
    const lateDeps: BackfillDeps = { ...deps, client: { workflow: { getHandle: late } } as unknown as Client };
    for (const action of ['resume', 'pause', 'cancel'] as const) {
      await expect(controlBackfill(owner, lateDeps, actor, LEADS, { action }, tenantId)).rejects.toMatchObject({ status: 409, code: 'backfill_not_running' });
    }
    await expect(controlBackfill(owner, lateDeps, actor, LEADS, { action: 'throttle', sleepMs: 0 }, tenantId)).rejects.toMatchObject({
      status: 409,
      code: 'backfill_not_running',
    });
    expect((await handle.result()).state).toBe('cancelled');
    expect(await audited(tenantId)).toBe(0);
  });

  it('reaches the newest run while the run continues as new: every call answered, none lost', async () => {
    const { tenantId, handle } = await tenantRun(3_000, { historyLimit: 20, sliceMs: 150 });
    const firstRun = (await handle.describe()).runId;
    let answered = 0;
    let pausesHeld = 0;
    let runs = new Set<string>([firstRun]);
    const deadline = Date.now() + 90_000;
    // Pause and resume in pairs until the run ends; each pair lands on whichever run is the newest.
    for (;;) {
      expect(Date.now()).toBeLessThan(deadline);
      const d = await handle.describe();
      runs.add(d.runId);
      if (d.status.name !== 'RUNNING') break;
      try {
        await controlBackfill(owner, deps, actor, LEADS, { action: 'pause' }, tenantId);
        answered += 1;
        // The pause reached the run, whichever run of the chain is now the newest (or the run ended first).
        const held = await until('the pause holds', async () => {
          const p = await progressOf(client.workflow.getHandle(handle.workflowId)).catch(() => undefined);
          return p?.state === 'paused' || p?.state === 'completed' ? p.state : undefined;
        });
        if (held === 'paused') pausesHeld += 1;
        await controlBackfill(owner, deps, actor, LEADS, { action: 'resume' }, tenantId);
        answered += 1;
      } catch (err) {
        // Only the run's end may refuse a call, and then with the documented answer.
        expect(err).toMatchObject({ status: 409, code: 'backfill_not_running' });
        break;
      }
      await new Promise((r) => setTimeout(r, 150));
    }
    const end = await client.workflow.getHandle(handle.workflowId).result();
    runs = new Set([...runs, (await handle.describe()).runId]);
    expect(end).toMatchObject({ state: 'completed', rowsDone: 3_000 });
    expect(end.generation).toBeGreaterThan(1);
    expect(runs.size).toBeGreaterThan(1);
    expect(answered).toBeGreaterThan(4);
    // Every pause but perhaps the last (which the run's end may overtake) was seen holding.
    expect(pausesHeld).toBeGreaterThanOrEqual(Math.ceil(answered / 2) - 1);
    expect(await audited(tenantId)).toBe(answered);
  });
});
