// Temporal helpers: a client for the run's dev server, the project's real
// worker running inside a test, and the time-skipping test server.
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TEST_OUTBOUND } from './smtp';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection, Runtime, DefaultLogger } from '@temporalio/worker';
import { type ActivityDeps } from '../../activities';
import { createWorker, type CreateWorkerOptions } from '../../worker/createWorker';
import { bundleWorkflows, writeWorkflowBundle } from '../../worker/workflowBundle';
import { TEST_SERVER_WRAPPER, testServerReady } from '../../scripts/lib/tools';

let runtimeInstalled = false;
/** Keep the SDK's own logs to warnings so test output stays readable. */
export function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // already installed in this worker process
  }
}

export function temporalAddress(): string {
  const address = process.env.TF_TEST_TEMPORAL_ADDRESS;
  if (!address) throw new Error('TF_TEST_TEMPORAL_ADDRESS is not set: run tests through jest');
  return address;
}

export async function connectClient(): Promise<{ client: Client; connection: Connection }> {
  const connection = await Connection.connect({ address: temporalAddress() });
  return { client: new Client({ connection, namespace: 'default' }), connection };
}

let bundle: Promise<{ codePath: string }> | undefined;
/**
 * The project's workflow bundle, built once per test file and run from a
 * file, as `npm start` and the production image run it
 * (TEMPORAL_WORKFLOW_BUNDLE). The file is named by its content, so the run's
 * test files share one per version of the code.
 */
export function projectWorkflowBundle(): Promise<{ codePath: string }> {
  bundle ??= (async () => {
    const code = await bundleWorkflows();
    const file = path.join(os.tmpdir(), 'tenantflow-workflow-bundles', `${createHash('sha256').update(code).digest('hex').slice(0, 16)}.js`);
    return { codePath: fs.existsSync(file) ? file : await writeWorkflowBundle(file, code) };
  })();
  return bundle;
}

export function uniqueTaskQueue(label: string): string {
  return `test-${label}-${randomUUID()}`;
}

/**
 * Runs the project's worker (same factory as production) against the run's
 * dev server while `fn` executes, then shuts it down.
 */
type ProjectWorkerOptions = {
  taskQueue: string;
  activityOverrides?: CreateWorkerOptions['activityOverrides'];
  /** Another server's connection (the time-skipping one's); the caller closes it. By default the run's dev server, on a connection of its own. */
  connection?: NativeConnection;
} & Omit<ActivityDeps, 'outbound'>;

/** The production worker factory on its own connection, with the test outbound policy (not yet running). */
async function projectWorker({ taskQueue, activityOverrides, connection: given, ...deps }: ProjectWorkerOptions) {
  quietRuntime();
  const connection = given ?? (await NativeConnection.connect({ address: temporalAddress() }));
  const close = () => (given ? Promise.resolve() : connection.close());
  try {
    const worker = await createWorker({
      connection,
      namespace: 'default',
      taskQueue,
      activities: { ...deps, outbound: TEST_OUTBOUND },
      activityOverrides,
      workflowBundle: await projectWorkflowBundle(),
    });
    return { worker, close };
  } catch (err) {
    await close();
    throw err;
  }
}

export async function withProjectWorker<T>(opts: ProjectWorkerOptions, fn: () => Promise<T>): Promise<T> {
  const { worker, close } = await projectWorker(opts);
  try {
    return await worker.runUntil(fn());
  } finally {
    await close();
  }
}

/** The production worker for a whole suite: running until `stop()` (for afterAll). */
export async function startProjectWorker(opts: ProjectWorkerOptions): Promise<{ stop(): Promise<void> }> {
  const { worker, close } = await projectWorker(opts);
  const running = worker.run();
  return {
    async stop() {
      worker.shutdown();
      await running.catch(() => undefined);
      await close();
    },
  };
}

/** The Temporal time-skipping test server (Java), through the setup's wrapper. */
export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  if (!testServerReady()) throw new Error('the time-skipping test server is missing: run `npm run setup`');
  quietRuntime();
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: TEST_SERVER_WRAPPER } },
  });
  // Tenant workflows carry TenantId (automation runs AutomationId too); the test server knows them only once told.
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: {
      TenantId: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
      AutomationId: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    },
  });
  return env;
}

/** Workflow IDs a visibility query finds; visibility is eventually consistent, so poll briefly for at least `atLeast`. */
export async function workflowIdsMatching(client: Client, query: string, atLeast: number, timeoutMs = 15_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let ids: string[] = [];
  while (Date.now() < deadline) {
    ids = [];
    for await (const wf of client.workflow.list({ query })) ids.push(wf.workflowId);
    if (ids.length >= atLeast) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  return ids;
}
