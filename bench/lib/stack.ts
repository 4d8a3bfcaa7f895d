// The benchmark's stack: what `npm start` brings up (embedded PostgreSQL, the
// Temporal dev server with the same SQLite settings, the worker, the backfill
// worker, the API, the local SMTP sink), on free loopback ports and a
// throwaway data dir — the console is left out, since nothing here measures
// it — plus one more worker process for the baselines' workflows.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { type DataSource } from 'typeorm';
import { createDataSource } from '../../db/dataSource';
import { parseConfig } from '../../lib/config';
import { freePort } from '../../scripts/lib/net';
import { launchPlatform, type Platform } from '../../scripts/lib/platform';
import { ROOT } from '../../scripts/lib/tools';
import { type CpuSeconds, cpuPerOp, cpuSnapshot, machineCpuSeconds, settle } from './load';

export const BASELINE_TASK_QUEUE = 'tenantflow-bench-baseline';

export interface BenchStack {
  platform: Platform;
  api: string;
  taskQueue: string;
  baselineTaskQueue: string;
  sinkPort: number;
  /** The local mail server's IMAP port (GreenMail, any login): inboxes' mailboxes. */
  imapPort: number;
  webhookSecret: string;
  client: Client;
  owner: pg.Pool;
  app: pg.Pool;
  /** The owner role through TypeORM, for the seed's tenant set-up. */
  ownerDs: DataSource;
  pid(name: 'worker' | 'api' | 'baseline-worker' | 'temporal'): number | undefined;
  /** CPU seconds so far of the stack's processes (PostgreSQL's summed) and of the bench itself. */
  cpu(): CpuSeconds;
  /** Waits until the stack's Temporal server is nearly idle (at most 30 s). */
  settle(): Promise<void>;
  /** Once the work has drained (the server nearly idle, at most `maxMs`, 30 s unless given), the CPU milliseconds per operation since `before` (a cpu() snapshot), by process. */
  cpuSince(before: CpuSeconds, ops: number, maxMs?: number): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

export async function startBenchStack(log: (line: string) => void): Promise<BenchStack> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantflow-bench-'));
  const sinkPort = await freePort();
  const imapPort = await freePort();
  const webhookSecret = 'bench-webhook-secret-0123456789abcdef';
  const env: Record<string, string> = {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    TENANTFLOW_DATA_DIR: dataDir,
    API_PORT: String(await freePort()),
    WEB_PORT: String(await freePort()),
    PG_PORT: String(await freePort()),
    TEMPORAL_PORT: String(await freePort()),
    TEMPORAL_UI_PORT: String(await freePort()),
    SMTP_SINK_PORT: String(sinkPort),
    GREENMAIL_IMAP_PORT: String(imapPort),
    GREENMAIL_SMTP_PORT: String(await freePort()),
    EMAIL_WEBHOOK_SECRETS: `smtp:${webhookSecret},smartlead:${webhookSecret}`,
    // Billing is not measured: a key that is never called keeps stripe-mock (slow to start on a busy machine) out.
    STRIPE_SECRET_KEY: 'sk_test_benchunused',
    STRIPE_API_BASE: 'http://127.0.0.1:9',
  };
  const config = parseConfig({ ...process.env, ...env });
  const launch = launchPlatform({ config, log: (l) => log(`stack: ${l}`), echo: false, console: false });
  let platform: Platform;
  try {
    platform = await launch.ready;
  } catch (err) {
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  platform.supervisor.spawn({
    name: 'baseline-worker',
    command: process.execPath,
    args: ['--import', 'tsx', path.join(ROOT, 'bench', 'baselineWorker.ts')],
    env: { TEMPORAL_ADDRESS: config.temporalAddress, TEMPORAL_NAMESPACE: config.TEMPORAL_NAMESPACE, BENCH_BASELINE_TASK_QUEUE: BASELINE_TASK_QUEUE },
    cwd: ROOT,
    echo: false,
    logFile: path.join(dataDir, 'logs', 'baseline-worker.log'),
  });
  const connection = await Connection.connect({ address: config.temporalAddress });
  const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
  const owner = new pg.Pool({ connectionString: platform.databaseUrl, max: 10, application_name: 'tenantflow-bench' });
  const app = new pg.Pool({ connectionString: platform.appDatabaseUrl, max: 10, application_name: 'tenantflow-bench-app' });
  const ownerDs = createDataSource({ url: platform.databaseUrl, applicationName: 'tenantflow-bench-seed', poolSize: 2 });
  await ownerDs.initialize();
  // Each process of the stack, and `machine`: every process together, which
  // also counts what ended meanwhile (PostgreSQL's backends, autovacuum's workers).
  const cpu = () => ({
    ...cpuSnapshot(
      Object.fromEntries((['temporal', 'worker', 'api', 'baseline-worker'] as const).map((n) => [n, platform.supervisor.pidOf(n)])),
      postmasterPid(dataDir),
    ),
    machine: machineCpuSeconds(),
  });
  const quiet = (maxMs?: number) => settle(platform.supervisor.pidOf('temporal'), maxMs);
  return {
    platform,
    api: config.apiUrl,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    baselineTaskQueue: BASELINE_TASK_QUEUE,
    sinkPort,
    imapPort,
    webhookSecret,
    client,
    owner,
    app,
    ownerDs,
    pid: (name) => platform.supervisor.pidOf(name),
    cpu,
    settle: quiet,
    async cpuSince(before, ops, maxMs) {
      await quiet(maxMs);
      return cpuPerOp(before, cpu(), ops);
    },
    async stop() {
      await owner.end().catch(() => undefined);
      await app.end().catch(() => undefined);
      await ownerDs.destroy().catch(() => undefined);
      await connection.close().catch(() => undefined);
      await platform.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The embedded PostgreSQL server's main process (the first line of its postmaster.pid). */
function postmasterPid(dataDir: string): number | undefined {
  try {
    return Number(fs.readFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]) || undefined;
  } catch {
    return undefined;
  }
}
