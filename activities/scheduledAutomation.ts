// The activity of a schedule's tick (workflows/triggerScheduledAutomation.ts):
// records the automation's queued run, deduplicated by the tick's scheduled
// time (`schedule:{time}`), so a tick retried or delivered twice is one run.
// An automation disabled, deleted or no longer triggered by a schedule since
// the tick was due records nothing. An automation that is gone deletes its
// schedule here too: a customer's deletion removes its automations by
// cascade, without the lifecycle hook that deletes their schedules.
import { Context } from '@temporalio/activity';
import { ScheduleNotFoundError } from '@temporalio/client';
import { type DataSource } from 'typeorm';
import { insertRun } from '../db/automationRuns';
import { findTriggerableAutomation } from '../db/automationTriggers';
import { newId } from '../db/ids';
import { withTenant } from '../db/tenantContext';
import { automationScheduleId } from '../workflows/ids';
import { scheduledTimeOf, type TriggerScheduledAutomationInput, type TriggerScheduledAutomationResult } from '../workflows/triggerScheduledAutomation.contract';

export function createScheduledAutomationActivities(deps: { dataSource: DataSource }) {
  return {
    async recordScheduledRun(input: TriggerScheduledAutomationInput): Promise<TriggerScheduledAutomationResult> {
      const scheduledTime = scheduledTimeOf(input, Context.current().info.workflowExecution?.workflowId ?? '');
      const recorded = await withTenant(deps.dataSource, input.tenantId, async (m) => {
        const a = await findTriggerableAutomation(m, input.automationId);
        if (!a) return 'gone' as const;
        if (!a.enabled || a.version === null || a.definition?.trigger.type !== 'schedule') return { runId: null };
        const run = await insertRun(m, {
          id: newId('arun'),
          automationId: a.id,
          version: a.version,
          customerId: a.customer_id,
          leadId: null,
          trigger: { type: 'schedule', payload: { scheduledTime } },
          dedupeKey: `schedule:${scheduledTime}`,
        });
        return { runId: run.id };
      });
      if (recorded !== 'gone') return recorded;
      try {
        await Context.current().client.schedule.getHandle(automationScheduleId(input)).delete();
      } catch (err) {
        if (!(err instanceof ScheduleNotFoundError)) throw err;
      }
      return { runId: null };
    },
  };
}
