// Starts `temporal server start-dev` for the embedded default and for tests:
// loopback only, the TenantId search attribute registered, and (for `npm
// start`) its SQLite file and Web UI enabled.
import { Connection } from '@temporalio/client';
import { type Supervisor, type ManagedProcess } from './processes';
import { waitForPort } from './net';

export const SEARCH_ATTRIBUTES = ['TenantId=Keyword', 'AutomationId=Keyword'];

/** The embedded default's SQLite settings: 3× the workflow throughput of the default journal (docs/performance.md). */
export const SQLITE_PRAGMAS = ['journal_mode=wal', 'synchronous=normal'];

export interface TemporalDevServerOptions {
  cliPath: string;
  port: number;
  /** Web UI port; omit to run headless. */
  uiPort?: number;
  /** SQLite file; omit for an in-memory server (tests). */
  dbFile?: string;
  namespace: string;
  logFile?: string;
  echo?: boolean;
}

export function temporalDevServerArgs(opts: TemporalDevServerOptions): string[] {
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(opts.port), '--namespace', opts.namespace, '--log-level', 'warn'];
  for (const sa of SEARCH_ATTRIBUTES) args.push('--search-attribute', sa);
  if (opts.dbFile) {
    args.push('--db-filename', opts.dbFile);
    // Write-ahead log, synced at checkpoints rather than at every commit: a
    // crash of the server process loses nothing; a power cut or kernel crash
    // may lose the last moments of workflow progress (docs/performance.md).
    for (const pragma of SQLITE_PRAGMAS) args.push('--sqlite-pragma', pragma);
  }
  if (opts.uiPort) args.push('--ui-port', String(opts.uiPort));
  else args.push('--headless');
  return args;
}

export async function startTemporalDevServer(supervisor: Supervisor, opts: TemporalDevServerOptions): Promise<ManagedProcess> {
  const proc = supervisor.spawn({
    name: 'temporal',
    command: opts.cliPath,
    args: temporalDevServerArgs(opts),
    logFile: opts.logFile,
    echo: opts.echo,
    graceMs: 15_000,
  });
  await Promise.race([
    waitForPort(opts.port, 120_000),
    proc.exited.then(({ code }) => {
      throw new Error(`temporal dev server exited (code ${code}) before it listened${opts.logFile ? `; see ${opts.logFile}` : ''}`);
    }),
  ]);
  await waitForNamespace(`127.0.0.1:${opts.port}`, opts.namespace, 60_000);
  return proc;
}

/** The port opens before the namespace is ready; wait until it describes. */
export async function waitForNamespace(address: string, namespace: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    let connection: Connection | undefined;
    try {
      connection = await Connection.connect({ address, connectTimeout: 2000 });
      await connection.workflowService.describeNamespace({ namespace });
      return;
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 250));
    } finally {
      await connection?.close();
    }
  }
  throw new Error(`Temporal namespace ${namespace} at ${address} was not ready in time: ${String(lastError)}`);
}
