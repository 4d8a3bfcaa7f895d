// The automation actions that reach outside the database: `notify` and
// `webhook_call` (docs/automations.md, "Actions, exactly once").
// FOUNDATION STUB: notify records nothing, webhook_call fails.
import { ApplicationFailure } from '@temporalio/common';
import { type NotifyInput, type NotifyResult, WEBHOOK_HTTP_ERROR, type WebhookCallInput, type WebhookCallResult } from '../workflows/automationRun.contract';
import { type ActivityDeps } from './index';

export function createAutomationActionActivities(_deps: ActivityDeps) {
  return {
    async automationNotify(_input: NotifyInput): Promise<NotifyResult> {
      return { userIds: [], mailed: 0 };
    },
    async automationWebhookCall(_input: WebhookCallInput): Promise<WebhookCallResult> {
      throw ApplicationFailure.nonRetryable('webhook calls are not built yet', WEBHOOK_HTTP_ERROR);
    },
  };
}
