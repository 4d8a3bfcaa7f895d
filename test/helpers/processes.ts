// The project's worker as a real process, started as production starts it
// (`node --import tsx worker/main.ts`), for tests that kill it mid-work.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../../scripts/lib/tools';
import { temporalAddress } from './temporal';
import { TEST_OUTBOUND_ALLOWLIST } from './smtp';

export function startWorkerProcess(opts: { databaseAppUrl: string; taskQueue: string; env?: Record<string, string> }, started: ChildProcess[]): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'worker', 'main.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_APP_URL: opts.databaseAppUrl,
      TEMPORAL_ADDRESS: temporalAddress(),
      TEMPORAL_TASK_QUEUE: opts.taskQueue,
      STRIPE_SECRET_KEY: '',
      LOG_LEVEL: 'warn',
      OUTBOUND_ALLOWLIST: TEST_OUTBOUND_ALLOWLIST,
      ...opts.env,
    },
    stdio: 'ignore',
  });
  started.push(child);
  return child;
}

/** `pid` and all its descendants (Linux: read from /proc), parents first. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // `pid (comm) state ppid …`; comm may hold spaces and parentheses.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]!) ?? []));
  return tree;
}

/**
 * Pauses (SIGSTOP) or resumes (SIGCONT) a server and every process it forked:
 * a paused server keeps its sockets open and accepts connections into the
 * kernel's backlog, but answers nothing — the hang that timeouts are for.
 */
export function signalTree(pid: number, signal: 'SIGSTOP' | 'SIGCONT'): void {
  const tree = processTree(pid);
  for (const p of signal === 'SIGSTOP' ? tree : [...tree].reverse()) {
    try {
      process.kill(p, signal);
    } catch {
      // exited meanwhile
    }
  }
}

export { until } from '../../lib/until';

export interface OwnPostgres {
  ownerUrl: string;
  appUrl: string;
  /** The cluster's directory (its postmaster.pid names the server to pause). */
  dataDir: string;
  /** The postmaster's process id, read from postmaster.pid. */
  pid(): number;
  stop(): Promise<void>;
}

/** A migrated PostgreSQL of the suite's own, in `dir` (test/servers/postgres.ts), for suites that pause or stop it. */
export async function startOwnPostgres(dir: string): Promise<OwnPostgres> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test', 'servers', 'postgres.ts'), dir], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')));
    });
    child.once('exit', (code) => reject(new Error(`test/servers/postgres.ts exited (code ${code}) before it was ready`)));
  });
  const info = JSON.parse(line) as { ownerUrl: string; appUrl: string; dataDir: string };
  return {
    ...info,
    pid: () => Number(fs.readFileSync(path.join(info.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const killTimer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(killTimer);
    },
  };
}
