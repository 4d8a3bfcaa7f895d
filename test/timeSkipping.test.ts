// The Temporal time-skipping test server (Java, from Maven Central, started
// through the setup's wrapper) lets long timers pass at once: 30 days of
// workflow time here, which on a real clock would take 30 days.
import { Worker } from '@temporalio/worker';
import { type TestWorkflowEnvironment } from '@temporalio/testing';
import { waitDays } from './fixtures/workflows';
import { createTimeSkippingEnv, uniqueTaskQueue } from './helpers/temporal';

const DAY_MS = 24 * 60 * 60 * 1000;

let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await createTimeSkippingEnv();
});

afterAll(async () => {
  await env?.teardown();
});

it('passes 30 days of workflow time while the test waits only seconds', async () => {
  expect(env.supportsTimeSkipping).toBe(true);
  const taskQueue = uniqueTaskQueue('time-skipping');
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowsPath: require.resolve('./fixtures/workflows'),
  });
  const serverTimeBefore = await env.currentTimeMs();
  const wallBefore = Date.now();

  const result = await worker.runUntil(env.client.workflow.execute(waitDays, { workflowId: `time-skipping-${taskQueue}`, taskQueue, args: [{ days: 30 }] }));

  const wallElapsed = Date.now() - wallBefore;
  expect(result.finishedAt - result.startedAt).toBeGreaterThanOrEqual(30 * DAY_MS);
  expect((await env.currentTimeMs()) - serverTimeBefore).toBeGreaterThanOrEqual(30 * DAY_MS);
  // Not a speed test: a bound that only time skipping can meet (30 days ≫ 60 s).
  expect(wallElapsed).toBeLessThan(60_000);
});
