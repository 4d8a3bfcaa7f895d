// The baselines' workflows (bench only): the least a durable step costs on the
// same server and worker settings as the product's.
import { condition, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';

const { noop } = proxyActivities<{ noop(): Promise<void> }>({ startToCloseTimeout: '30 seconds' });

/** One activity that does nothing: the floor under a durable send. */
export async function benchOneActivity(): Promise<void> {
  await noop();
}

/** No activity at all: the floor under starting a workflow. */
export async function benchTrivial(): Promise<void> {}

export const benchSignal = defineSignal('benchSignal');

/** Ends on its first signal: the target of bare signal-with-start calls. */
export async function benchSignalled(): Promise<void> {
  let got = false;
  setHandler(benchSignal, () => void (got = true));
  await condition(() => got);
}

/** `n` no-op activities one after another: the floor under a workflow of n durable steps. */
export async function benchActivities(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await noop();
}
