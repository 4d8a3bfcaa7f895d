// Load drivers: a closed loop (C callers back to back for a while: the most
// the system does) and an open loop (requests at a fixed rate, so queueing
// shows in the latency instead of slowing the sender). Both are bounded in
// count and time and talk only to 127.0.0.1.

import fs from 'node:fs';

export interface LoadResult {
  done: number;
  errors: number;
  seconds: number;
  perSecond: number;
  latenciesMs: number[];
}

export async function closedLoop(
  opts: { concurrency: number; seconds: number; maxRequests?: number },
  call: (i: number) => Promise<void>,
): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  let issued = 0;
  const max = opts.maxRequests ?? Number.MAX_SAFE_INTEGER;
  const start = performance.now();
  const deadline = start + opts.seconds * 1000;
  const lane = async () => {
    while (performance.now() < deadline && issued < max) {
      const i = issued++;
      const t = performance.now();
      try {
        await call(i);
        latencies.push(performance.now() - t);
      } catch {
        errors += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, lane));
  const seconds = (performance.now() - start) / 1000;
  return { done: latencies.length, errors, seconds, perSecond: latencies.length / seconds, latenciesMs: latencies };
}

export async function openLoop(opts: { ratePerSecond: number; seconds: number }, call: (i: number) => Promise<void>): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  const total = Math.max(1, Math.floor(opts.ratePerSecond * opts.seconds));
  const interval = 1000 / opts.ratePerSecond;
  const start = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const at = start + i * interval;
    const wait = at - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    inflight.push(
      (async () => {
        const t = performance.now();
        try {
          await call(i);
          // Latency from the intended send time: a late sender counts against us.
          latencies.push(performance.now() - Math.min(t, at));
        } catch {
          errors += 1;
        }
      })(),
    );
  }
  await Promise.all(inflight);
  const seconds = (performance.now() - start) / 1000;
  return { done: latencies.length, errors, seconds, perSecond: latencies.length / seconds, latenciesMs: latencies };
}

/** Resident memory of a process in MiB (Linux). */
export async function rssMiB(pid: number | undefined): Promise<number> {
  if (!pid) return NaN;
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

/** CPU seconds so far, by part: the named processes, every process of one PostgreSQL server, and this one. */
export type CpuSeconds = Record<string, number>;

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

function processCpu(pid: number): { ppid: number; seconds: number } | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // ended meanwhile
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { ppid: Number(fields[1]), seconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND }; // utime + stime
}

export function cpuSnapshot(named: Record<string, number | undefined>, postmasterPid?: number): CpuSeconds {
  const out: CpuSeconds = Object.fromEntries(Object.keys(named).map((n) => [n, 0]));
  for (const [name, pid] of Object.entries(named)) if (pid) out[name] = processCpu(pid)?.seconds ?? 0;
  if (postmasterPid) {
    out.postgres = 0;
    for (const entry of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const p = processCpu(Number(entry));
      if (p && (Number(entry) === postmasterPid || p.ppid === postmasterPid)) out.postgres += p.seconds;
    }
  }
  const own = process.cpuUsage();
  out.bench = (own.user + own.system) / 1e6;
  return out;
}

/** CPU milliseconds between two snapshots, by part, divided by `per`; parts under `least` left out. */
function cpuMsPer(before: CpuSeconds, after: CpuSeconds, per: number, least: number): Record<string, number> {
  return Object.fromEntries(
    Object.keys(after)
      .map((k) => [k, ((after[k]! - (before[k] ?? 0)) * 1000) / per] as const)
      .filter(([, v]) => v >= least),
  );
}

/** CPU seconds every process of the machine has spent since boot (all cores; idle and I/O wait left out), from /proc/stat. */
export function machineCpuSeconds(): number {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!; // "cpu  user nice system idle iowait irq softirq steal …"
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return (user! + nice! + system! + irq! + softirq! + (steal ?? 0)) / TICKS_PER_SECOND;
}

/** CPU seconds between two snapshots, by part (a part that went down — its process ended meanwhile — left out). */
export const cpuSecondsBetween = (before: CpuSeconds, after: CpuSeconds) => cpuMsPer(before, after, 1000, 0);

/** CPU milliseconds per operation between two snapshots, by part (parts under 0.05 ms left out). */
export const cpuPerOp = (before: CpuSeconds, after: CpuSeconds, ops: number) => cpuMsPer(before, after, ops, 0.05);

/** Each part's share of a core between two snapshots `ms` apart, in per cent (parts under 1 % left out). */
export const cpuShare = (before: CpuSeconds, after: CpuSeconds, ms: number) => cpuMsPer(before, after, ms / 100, 1);

/** Waits (at most `maxMs`) until a process (the Temporal server) is nearly idle: the work a load set off has drained. */
export async function settle(pid: number | undefined, maxMs = 30_000): Promise<void> {
  if (!pid) return;
  const deadline = Date.now() + maxMs;
  let last = processCpu(pid)?.seconds ?? 0;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    const now = processCpu(pid)?.seconds ?? 0;
    if (now - last < 0.05) return; // under 10 % of a core
    last = now;
  }
}

export const formatCpu = (perOp: Record<string, number>) =>
  Object.entries(perOp)
    .sort((a, b) => b[1] - a[1])
    .map(([k, ms]) => `${k} ${ms.toFixed(1)}`)
    .join(', ');
