// The contract of automationRun, one run of an automation (docs/automations.md,
// "Runs"): its workflow id, input, signals and query. The input names the run
// only; the run's version is read from its row by the first activity, so a
// run always interprets the version it was created on, and its trigger and
// lead are read by the activities that need them, never held in history.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import { automationRunWorkflowId } from './ids';

export { automationRunWorkflowId };

export const AUTOMATION_RUN = 'automationRun';

export interface AutomationRunInput {
  tenantId: string;
  automationId: string;
  /** The run row (`arun_…`), created `queued` before the workflow starts. */
  runId: string;
}

/** An event a waiting `wait_for` step may be waiting for, sent by the trigger dispatcher. */
export interface AutomationEvent {
  /** The analytics event (`aev_…`). */
  eventId: string;
  type: string;
  leadId: string | null;
  occurredAt: string;
}

export const automationEventSignal = defineSignal<[AutomationEvent]>('automationEvent');

/**
 * Sent by an admitter to a run that woke from a wait and went back to the
 * queue (docs/automations.md, "The interpreter"): its row is `running`
 * again, so it goes on with its next step.
 */
export const automationAdmittedSignal = defineSignal('automationAdmitted');

/** Where the run is: its status and the path of the step it is on. */
export interface AutomationRunProgress {
  status: 'queued' | 'running' | 'waiting' | 'completed' | 'failed' | 'canceled';
  step?: string;
}

export const automationRunProgressQuery = defineQuery<AutomationRunProgress>('automationRunProgress');

/** How a run ended. */
export type AutomationRunOutcome =
  { status: 'completed' } | { status: 'failed'; step: string; error: { code: string; message: string } } | { status: 'canceled' };

export function automationRunStartOptions(input: AutomationRunInput, taskQueue: string) {
  return { workflowId: automationRunWorkflowId(input), taskQueue, args: [input] as [AutomationRunInput] };
}

/** What every action activity is told: the run and the step (its idempotency key is `{runId}:{path}`). */
export interface ActionStep {
  tenantId: string;
  automationId: string;
  runId: string;
  path: string;
}

/** The `notify` action: one in-app notification per member, mail when asked. */
export interface NotifyInput extends ActionStep {
  to: 'owners' | string[];
  title: string;
  body?: string;
  email?: boolean;
}

export interface NotifyResult {
  /** The users notified (a retried attempt answers the same). */
  userIds: string[];
  mailed: number;
}

/** The `webhook_call` action: one POST, signed, under the outbound policy. */
export interface WebhookCallInput extends ActionStep {
  url: string;
  body?: Record<string, unknown>;
  timeoutSeconds?: number;
  /**
   * Not sent by the run: the activity reads the run's data (the trigger and
   * the lead, `findRunData` in db/automationRuns.ts) from the database, so
   * no personal data lands in the workflow's history (docs/architecture.md).
   */
  data?: Record<string, unknown>;
}

export interface WebhookCallResult {
  status: number;
  /** The `webhook-id` header, the same on every attempt: `{runId}:{path}`. */
  webhookId: string;
}

/**
 * Failure types of webhook_call: a refused address (loopback, private,
 * link-local, or a redirect to one) and a 4xx answer fail the step at once;
 * a 5xx, 429, timeout or connection failure is retried a bounded number of times.
 */
export const WEBHOOK_REFUSED_ADDRESS = 'webhook_refused_address';
export const WEBHOOK_HTTP_ERROR = 'webhook_http_error';
export const WEBHOOK_RETRYABLE = 'webhook_retryable';

/**
 * The failure type of a run's activity when the run's row is gone (its
 * automation was deleted, which deletes its runs) or ended outside the
 * workflow: never retried; the workflow ends quietly (docs/automations.md).
 */
export const AUTOMATION_RUN_GONE = 'automation_run_gone';
