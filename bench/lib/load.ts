// Load drivers: a closed loop (C callers back to back for a while: the most
// the system does) and an open loop (requests at a fixed rate, so queueing
// shows in the latency instead of slowing the sender). Both are bounded in
// count and time and talk only to 127.0.0.1.

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
