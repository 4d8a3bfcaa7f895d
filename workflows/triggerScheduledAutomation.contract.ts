// The contract of triggerScheduledAutomation, the action of an automation's
// Temporal Schedule (docs/automations.md, "Schedules"): a schedule cannot
// write a run row, so each tick starts this workflow, whose one activity
// records the queued run. Temporal names each tick's workflow
// `{base id}-{scheduled time}`, so the time in its id is the run's dedupe key.

export const TRIGGER_SCHEDULED_AUTOMATION = 'triggerScheduledAutomation';

export interface TriggerScheduledAutomationInput {
  tenantId: string;
  automationId: string;
}

export interface TriggerScheduledAutomationResult {
  /** The run recorded (or found, for a tick delivered twice); null when the automation is no longer an enabled schedule. */
  runId: string | null;
}

/** The base id of the schedule's workflows; Temporal appends `-{scheduled time}` for each tick. */
export function scheduledAutomationWorkflowId(input: TriggerScheduledAutomationInput): string {
  return `tenant/${input.tenantId}/automation/${input.automationId}/scheduled`;
}

/** The scheduled time of a tick, from its workflow id (the suffix after the base id). */
export function scheduledTimeOf(input: TriggerScheduledAutomationInput, workflowId: string): string {
  const base = `${scheduledAutomationWorkflowId(input)}-`;
  return workflowId.startsWith(base) ? workflowId.slice(base.length) : workflowId;
}
