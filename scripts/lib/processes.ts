// A small supervisor for the processes `npm start` and the end-to-end harness
// run: it labels their output, notices when one dies, and stops them all in
// reverse start order (SIGTERM, then SIGKILL after a grace period) so no
// child outlives the launcher.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import readline from 'node:readline';

/**
 * Calls `stop` once, on the first SIGINT, SIGTERM or SIGHUP (Ctrl-C, a kill, a
 * closed terminal): what a launcher needs so no child outlives it.
 */
export function onStopSignal(stop: (signal: NodeJS.Signals) => void): void {
  let seen = false;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (seen) return;
      seen = true;
      stop(signal);
    });
  }
}

export interface ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface SpawnOptions {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Echo output to the console with a `[name]` prefix. */
  echo?: boolean;
  /** Also append output to this file. */
  logFile?: string;
  /** Hands each line of output to this (after the log file has it), e.g. a terminal summary. */
  onLine?: (line: string) => void;
  /** How long a SIGTERM gets before SIGKILL. */
  graceMs?: number;
}

/**
 * How long a child's exit waits before it counts as a death. Ctrl-C sends
 * SIGINT to the whole process group, so a child can exit (and its 'exit'
 * event arrive) before the launcher's own SIGINT handler has run: within this
 * window a stop that begins takes the exit as part of itself.
 */
export const DEATH_GRACE_MS = 500;

export class Supervisor {
  private readonly processes: (ManagedProcess & { graceMs: number })[] = [];
  private stopping = false;
  constructor(private readonly deathGraceMs = DEATH_GRACE_MS) {}
  onUnexpectedExit: (name: string, code: number | null, signal: NodeJS.Signals | null) => void = () => {};

  spawn(opts: SpawnOptions): ManagedProcess {
    const child = spawn(opts.command, opts.args, {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const logStream = opts.logFile ? fs.createWriteStream(opts.logFile, { flags: 'a' }) : undefined;
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      readline.createInterface({ input: stream }).on('line', (line) => {
        if (opts.echo) console.log(`[${opts.name}] ${line}`);
        logStream?.write(`${line}\n`);
        opts.onLine?.(line);
      });
    }
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.once('exit', (code, signal) => {
        logStream?.end();
        this.reportUnlessStopping(opts.name, code, signal);
        resolve({ code, signal });
      });
      child.once('error', (err) => {
        logStream?.write(`spawn error: ${err.message}\n`);
        this.reportUnlessStopping(opts.name, null, null);
        resolve({ code: null, signal: null });
      });
    });
    const managed = { name: opts.name, child, exited, graceMs: opts.graceMs ?? 10_000 };
    this.processes.push(managed);
    return managed;
  }

  private reportUnlessStopping(name: string, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.stopping) return;
    setTimeout(() => {
      if (!this.stopping) this.onUnexpectedExit(name, code, signal);
    }, this.deathGraceMs);
  }

  /** Stops every process, newest first; resolves when all have exited. */
  async stopAll(log: (line: string) => void = () => {}): Promise<void> {
    this.stopping = true;
    for (const p of [...this.processes].reverse()) {
      if (p.child.exitCode !== null || p.child.signalCode !== null) continue;
      p.child.kill('SIGTERM');
      const killTimer = setTimeout(() => {
        log(`${p.name} did not stop within ${p.graceMs} ms; killing it`);
        p.child.kill('SIGKILL');
      }, p.graceMs);
      await p.exited;
      clearTimeout(killTimer);
      log(`${p.name} stopped`);
    }
  }

  /** The process id of a named child (the benchmark reads the worker's and the API's memory). */
  pidOf(name: string): number | undefined {
    return this.processes.find((p) => p.name === name)?.child.pid;
  }

  pids(): number[] {
    return this.processes.map((p) => p.child.pid).filter((pid): pid is number => pid !== undefined);
  }
}
