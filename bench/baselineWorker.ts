// The baselines' worker process: the SDK's default worker settings, as the
// product's worker uses, on its own task queue of the same dev server.
import { NativeConnection, Worker } from '@temporalio/worker';

async function main(): Promise<void> {
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! });
  const worker = await Worker.create({
    connection,
    namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue: process.env.BENCH_BASELINE_TASK_QUEUE!,
    workflowsPath: require.resolve('./baseline.workflows'),
    activities: { noop: async () => {} },
  });
  await worker.run();
  await connection.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
