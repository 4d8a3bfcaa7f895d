// An automation's Temporal Schedule (docs/automations.md, "Schedules"): an
// enabled automation whose live version is triggered by `schedule` has one,
// `tenant/{t}/automation/{a}/schedule`, on its cron in the tenant's time
// zone; anything else has none. Each tick starts triggerScheduledAutomation,
// which records the run; the trigger dispatcher admits it.
import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy } from '@temporalio/client';
import { type TriggerableAutomation } from '../../db/automationTriggers';
import { isValidTimezone } from '../../lib/schedule';
import { automationScheduleId } from '../../workflows/ids';
import { AutomationIdSearchAttribute } from '../../workflows/searchAttributes';
import {
  scheduledAutomationWorkflowId,
  TRIGGER_SCHEDULED_AUTOMATION,
  type TriggerScheduledAutomationInput,
} from '../../workflows/triggerScheduledAutomation.contract';
import { tenantSearchAttributes } from '../tenantWorkflows';
import { type AutomationDeps } from './queue';

/** The cron an automation's schedule runs on, when it should have one. */
export function scheduleCron(a: TriggerableAutomation | undefined): string | undefined {
  if (!a || !a.enabled || a.version === null || !a.definition) return undefined;
  const trigger = a.definition.trigger;
  return trigger.type === 'schedule' ? trigger.cron : undefined;
}

/** The tenant's zone from its settings (UTC when it set none). */
export function tenantTimeZone(settings: Record<string, unknown>): string {
  return typeof settings.timezone === 'string' && isValidTimezone(settings.timezone) ? settings.timezone : 'UTC';
}

/**
 * Makes the automation's schedule match it: created or updated when it
 * should have one, deleted when not (disabled, deleted, another trigger).
 */
export async function syncAutomationSchedule(
  deps: AutomationDeps,
  tenantId: string,
  automationId: string,
  automation: TriggerableAutomation | undefined,
  timeZone: string,
): Promise<'scheduled' | 'removed' | 'none'> {
  const scheduleId = automationScheduleId({ tenantId, automationId });
  const cron = scheduleCron(automation);
  if (!cron) return (await removeSchedule(deps, scheduleId)) ? 'removed' : 'none';
  const input: TriggerScheduledAutomationInput = { tenantId, automationId };
  const spec = { cronExpressions: [cron], timezone: timeZone };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: TRIGGER_SCHEDULED_AUTOMATION,
    workflowId: scheduledAutomationWorkflowId(input),
    taskQueue: deps.taskQueue,
    args: [input],
    typedSearchAttributes: [...tenantSearchAttributes(tenantId), { key: AutomationIdSearchAttribute, value: automationId }],
  };
  try {
    await deps.client.schedule.create({
      scheduleId,
      spec,
      action,
      // A tick records a run and ends; overlapping ticks are separate runs.
      policies: { overlap: ScheduleOverlapPolicy.ALLOW_ALL, catchupWindow: '1 minute' },
      typedSearchAttributes: tenantSearchAttributes(tenantId),
    });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await deps.client.schedule.getHandle(scheduleId).update((prev) => ({ ...prev, spec, action, state: { ...prev.state, paused: false } }));
  }
  return 'scheduled';
}

async function removeSchedule(deps: AutomationDeps, scheduleId: string): Promise<boolean> {
  try {
    await deps.client.schedule.getHandle(scheduleId).delete();
    return true;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return false;
    throw err;
  }
}

/** The schedule's next action times, or undefined when the automation has none. */
export async function nextScheduleTimes(deps: AutomationDeps, tenantId: string, automationId: string): Promise<Date[] | undefined> {
  try {
    const d = await deps.client.schedule.getHandle(automationScheduleId({ tenantId, automationId })).describe();
    return d.info.nextActionTimes;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return undefined;
    throw err;
  }
}
