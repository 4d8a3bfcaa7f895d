// A schedule's tick for an automation that is gone (its customer was
// deleted, which deletes its automations without the lifecycle hook): the
// tick records no run and deletes the schedule, so it stops ticking.
import { ScheduleNotFoundError } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { type DataSource } from 'typeorm';
import { newId } from '../db/ids';
import { createTestDatabase, openDataSource, type TestDatabase } from '../test/helpers/database';
import { createTenant } from '../test/helpers/fixtures';
import { connectClient, uniqueTaskQueue } from '../test/helpers/temporal';
import { automationScheduleId } from '../workflows/ids';
import { scheduledAutomationWorkflowId, TRIGGER_SCHEDULED_AUTOMATION } from '../workflows/triggerScheduledAutomation.contract';
import { createScheduledAutomationActivities } from './scheduledAutomation';

let db: TestDatabase;
let ds: DataSource;
let temporal: Awaited<ReturnType<typeof connectClient>>;

beforeAll(async () => {
  db = await createTestDatabase('scheduled-automation');
  ds = await openDataSource(db.appUrl);
  temporal = await connectClient();
});

afterAll(async () => {
  await temporal?.connection.close();
  await ds?.destroy();
  await db?.drop();
});

it('deletes the schedule of an automation that is gone and records no run', async () => {
  const t = await createTenant(ds, { customers: 1 });
  const input = { tenantId: t.tenant.id, automationId: newId('auto') };
  const scheduleId = automationScheduleId(input);
  const { client } = temporal;
  await client.schedule.create({
    scheduleId,
    spec: { cronExpressions: ['0 9 1 * *'] },
    action: {
      type: 'startWorkflow',
      workflowType: TRIGGER_SCHEDULED_AUTOMATION,
      workflowId: scheduledAutomationWorkflowId(input),
      taskQueue: uniqueTaskQueue('gone'),
      args: [input],
    },
    state: { paused: true },
  });
  const handle = client.schedule.getHandle(scheduleId);
  try {
    const env = new MockActivityEnvironment(
      { workflowExecution: { workflowId: `${scheduledAutomationWorkflowId(input)}-2026-12-01T14:00:00Z`, runId: 'r' } },
      { client },
    );
    const { recordScheduledRun } = createScheduledAutomationActivities({ dataSource: ds });
    expect(await env.run(recordScheduledRun, input)).toEqual({ runId: null });
    await expect(handle.describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
    // A second tick already on its way finds no schedule to delete: not an error.
    expect(await env.run(recordScheduledRun, input)).toEqual({ runId: null });
  } finally {
    await handle.delete().catch(() => undefined);
  }
});
