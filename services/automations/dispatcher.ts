// The dispatcher's timer (docs/automations.md, "Triggers"): a pass over the
// live tenants about every second, never two at once in one process, and the
// sweep of runs admitted but never started about every minute. A pass that
// fails is logged and the next one retries: the cursor only moves on commit.
import { type Logger } from 'pino';
import { dispatchAutomationEvents, type DispatchOptions, restartStalledRuns } from './dispatch';
import { type AutomationDeps } from './queue';

export const DISPATCH_INTERVAL_MS = 1_000;
export const SWEEP_INTERVAL_MS = 60_000;

export function startAutomationDispatcher(
  deps: AutomationDeps,
  log: Pick<Logger, 'info' | 'warn'>,
  opts: DispatchOptions & { intervalMs?: number; sweepIntervalMs?: number } = {},
): { stop(): Promise<void> } {
  const intervalMs = opts.intervalMs ?? DISPATCH_INTERVAL_MS;
  const sweepIntervalMs = opts.sweepIntervalMs ?? SWEEP_INTERVAL_MS;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let lastSweep = 0;
  let current: Promise<void> = Promise.resolve();

  const pass = async () => {
    try {
      const r = await dispatchAutomationEvents(deps, opts);
      if (r.runs + r.loopGuarded + r.signalled > 0) log.info(r, 'automation events dispatched');
      if (Date.now() - lastSweep >= sweepIntervalMs) {
        lastSweep = Date.now();
        await restartStalledRuns(deps);
      }
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'automation dispatch failed; the next pass retries');
    }
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      current = pass().finally(schedule);
    }, intervalMs);
    timer.unref();
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await current;
    },
  };
}
