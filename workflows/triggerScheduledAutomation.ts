// One tick of an automation's schedule: records its queued run, which the
// trigger dispatcher then admits under the tenant's limit
// (docs/automations.md, "Schedules").
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { type TriggerScheduledAutomationInput, type TriggerScheduledAutomationResult } from './triggerScheduledAutomation.contract';

export * from './triggerScheduledAutomation.contract';

const { recordScheduledRun } = proxyActivities<Activities>({ startToCloseTimeout: '1 minute' });

export async function triggerScheduledAutomation(input: TriggerScheduledAutomationInput): Promise<TriggerScheduledAutomationResult> {
  return recordScheduledRun(input);
}
