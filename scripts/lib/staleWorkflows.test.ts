// The launcher's start check against the run's dev server: an open execution
// started by an older version of a workflow (one that ran behind a patch now
// retired) is found and named, with how to reset; one of today's shape is not.
import { type Client, type Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { CAMPAIGN_FANOUT, type CampaignFanoutInput } from '../../workflows/campaignFanout.contract';
import { connectClient, projectWorkflowBundle, quietRuntime, temporalAddress, uniqueTaskQueue, workflowIdsMatching } from '../../test/helpers/temporal';
import { until } from '../../test/helpers/processes';
import { findStaleWorkflows, openOnTaskQueues, staleWorkflowsMessage } from './staleWorkflows';

let client: Client;
let connection: Connection;
let native: NativeConnection;

beforeAll(async () => {
  quietRuntime();
  ({ client, connection } = await connectClient());
  native = await NativeConnection.connect({ address: temporalAddress() });
});

afterAll(async () => {
  await native?.close();
  await connection?.close();
});

/** Starts a fan-out (which waits for its first action) on a worker of the given workflows, and leaves it open once its first task is done. */
async function openFanout(label: string, workflows: { workflowsPath: string } | { workflowBundle: { codePath: string } }) {
  const taskQueue = uniqueTaskQueue(label);
  const workflowId = `${taskQueue}/fanout`;
  const worker = await Worker.create({ connection: native, taskQueue, ...workflows });
  await worker.runUntil(async () => {
    const args: [CampaignFanoutInput] = [{ tenantId: '01900000-0000-7000-8000-000000000001', campaignId: `cmp_${label}` }];
    const handle = await client.workflow.start(CAMPAIGN_FANOUT, { workflowId, taskQueue, args });
    await until('its first task done', async () =>
      (await handle.fetchHistory()).events?.some((e) => e.workflowTaskCompletedEventAttributes) ? true : undefined,
    );
  });
  return { taskQueue, workflowId };
}

it('finds an open execution of an older shape, names it and says how to reset; one of the current shape passes', async () => {
  const bundle = await projectWorkflowBundle();
  const old = await openFanout('stale-old', { workflowsPath: require.resolve('../../test/fixtures/retiredPatch') });
  const current = await openFanout('stale-current', { workflowBundle: bundle });
  const query = openOnTaskQueues([old.taskQueue, current.taskQueue]);
  try {
    await workflowIdsMatching(client, query, 2);
    const { checked, stale, failing } = await findStaleWorkflows({ client, workflowBundle: bundle, query });
    expect(checked).toBe(2);
    expect(failing).toEqual([]);
    expect(stale).toEqual([{ workflowId: old.workflowId, type: CAMPAIGN_FANOUT, error: expect.stringMatching(/campaign-fanout-commit-then-call/) }]);

    const message = staleWorkflowsMessage(stale, { address: '127.0.0.1:7233', namespace: 'default', dataDir: '/home/dev/tenantflow/.data' });
    expect(message).toContain(`1 open workflow execution(s) were started by an older version`);
    expect(message).toContain(`campaignFanout ${old.workflowId}`);
    expect(message).toContain('rm -rf /home/dev/tenantflow/.data');
    expect(message).toContain(
      `workflow terminate --address 127.0.0.1:7233 --namespace default --query "ExecutionStatus='Running' AND WorkflowType='campaignFanout'" --reason reset --yes`,
    );
  } finally {
    for (const w of [old, current]) await client.workflow.getHandle(w.workflowId).terminate('test over');
  }
});
