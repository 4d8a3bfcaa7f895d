// The automation actions that reach outside the database: `notify` and
// `webhook_call` (docs/automations.md, "Actions, exactly once"). Both are
// keyed by the step, `{runId}:{path}`, which comes from the input alone: a
// retried attempt — or one on another worker after a crash — writes no second
// notification and sends the same `webhook-id`.
import { ApplicationFailure } from '@temporalio/common';
import { findRunData, setStepOutput } from '../db/automationRuns';
import { readAutomationSecret } from '../db/automationSecrets';
import { notificationRecipients } from '../db/memberships';
import { insertNotifications } from '../db/notifications';
import { withTenant } from '../db/tenantContext';
import { open } from '../lib/encryption';
import { automationSecretAad } from '../lib/secretScopes';
import { NO_EXCEPTIONS } from '../lib/outbound';
import { mailSafeName } from '../lib/platformMail';
import { postWebhook, type WebhookOutcome, webhookTimeoutMs } from '../lib/webhookCall';
import {
  type NotifyInput,
  type NotifyResult,
  WEBHOOK_HTTP_ERROR,
  WEBHOOK_REFUSED_ADDRESS,
  WEBHOOK_RETRYABLE,
  type WebhookCallInput,
  type WebhookCallResult,
} from '../workflows/automationRun.contract';
import { type ActivityDeps } from './index';

/** The console page of a run, where a notification about it leads. */
export const runLink = (runId: string) => `/provider/automation-runs/${runId}`;

const REFUSALS: Record<Extract<WebhookOutcome, { kind: 'refused' }>['reason'], string> = {
  url: 'is not a valid URL',
  scheme: 'is not an http or https URL',
  credentials: 'carries credentials, which webhook calls do not send',
  unresolved: 'has a host name that does not resolve',
  internal: 'is a loopback, private, link-local or otherwise internal address, which webhook calls may not reach',
  redirects: 'redirects more than three times',
};

/** The start of an answer, for the step's row: one line, short. */
const excerpt = (body: string) => body.replace(/\s+/g, ' ').trim().slice(0, 200);

/**
 * The step's error for anything but a 2xx answer. Its message lands in the
 * run's workflow history, so it names the step's own URL and the status only,
 * never the receiver's words (those go on the step's row, `response`).
 */
function failureOf(outcome: WebhookOutcome, timeoutSeconds: number | undefined): never {
  switch (outcome.kind) {
    case 'refused':
      throw ApplicationFailure.nonRetryable(`webhook_call refused: ${outcome.url} ${REFUSALS[outcome.reason]}`, WEBHOOK_REFUSED_ADDRESS, {
        url: outcome.url,
        reason: outcome.reason,
      });
    case 'failed':
      throw ApplicationFailure.retryable(
        outcome.reason === 'timeout'
          ? `webhook_call to ${outcome.url}: no answer within ${webhookTimeoutMs(timeoutSeconds) / 1000} s`
          : `webhook_call to ${outcome.url}: could not connect (${outcome.message})`,
        WEBHOOK_RETRYABLE,
        { url: outcome.url, reason: outcome.reason },
      );
    case 'answered': {
      const message = `webhook_call to ${outcome.url} answered ${outcome.status}`;
      const details = { url: outcome.url, status: outcome.status };
      // The receiver's trouble or its rate limit passes; any other refusal would answer the same again.
      if (outcome.status >= 500 || outcome.status === 429 || outcome.status === 408) throw ApplicationFailure.retryable(message, WEBHOOK_RETRYABLE, details);
      throw ApplicationFailure.nonRetryable(message, WEBHOOK_HTTP_ERROR, details);
    }
  }
}

export function createAutomationActionActivities(deps: ActivityDeps) {
  const ds = deps.dataSource;
  return {
    /**
     * One in-app notification per recipient, each in its own transaction
     * with its mail: a row already there (an earlier attempt's) is neither
     * written nor mailed again, and a mail that fails rolls its row back, so
     * the retry mails it.
     */
    async automationNotify(input: NotifyInput): Promise<NotifyResult> {
      const recipients = await withTenant(ds, input.tenantId, (m) => notificationRecipients(m, input.to));
      let mailed = 0;
      for (const r of recipients) {
        await withTenant(ds, input.tenantId, async (m) => {
          const [created] = await insertNotifications(m, [
            {
              userId: r.user_id,
              title: input.title,
              body: input.body ?? '',
              link: runLink(input.runId),
              automationId: input.automationId,
              runId: input.runId,
              dedupeKey: `run:${input.runId}:${input.path}`,
            },
          ]);
          if (!created || !input.email || !deps.mailer) return;
          // The platform's mail carries a tenant's words only as short plain text in its body (lib/platformMail.ts).
          await deps.mailer({
            to: r.email,
            subject: 'New notification on Tenantflow',
            text:
              `An automation of your workspace notified you: "${mailSafeName(input.title, 'Notification')}".\n\n` +
              `Read it in the console${deps.consoleUrl ? `: ${deps.consoleUrl}/notifications` : ' under Notifications'}.\n`,
          });
          mailed++;
        });
      }
      return { userIds: recipients.map((r) => r.user_id), mailed };
    },

    /**
     * One signed POST under the outbound policy. A refused destination or a
     * 4xx fails the step at once; a 5xx, 429, timeout or connection failure
     * is retried by the workflow's bounded policy, with the same webhook id.
     */
    async automationWebhookCall(input: WebhookCallInput): Promise<WebhookCallResult> {
      const webhookId = `${input.runId}:${input.path}`;
      if (!deps.keyring)
        throw ApplicationFailure.nonRetryable('webhook_call: the worker has no encryption keyring to open the signing secret', WEBHOOK_HTTP_ERROR);
      // The run's data (its trigger and lead) is read here, not passed through
      // the workflow: personal data stays out of history (docs/architecture.md).
      const [sealed, data] = await withTenant(
        ds,
        input.tenantId,
        async (m) => [await readAutomationSecret(m, input.automationId), await findRunData(m, input.runId)] as const,
      );
      if (!sealed) throw ApplicationFailure.nonRetryable('webhook_call: the automation no longer exists', WEBHOOK_HTTP_ERROR);
      const secret = open(deps.keyring, sealed, automationSecretAad(input.tenantId, input.automationId));
      const body = JSON.stringify({
        type: 'automation.webhook_call',
        automationId: input.automationId,
        runId: input.runId,
        step: input.path,
        data: data ?? {},
        body: input.body ?? null,
      });
      const outcome = await postWebhook({
        url: input.url,
        body,
        id: webhookId,
        secret,
        timeoutSeconds: input.timeoutSeconds,
        policy: deps.outbound ?? NO_EXCEPTIONS,
      });
      if (outcome.kind === 'answered' && outcome.status >= 200 && outcome.status < 300) return { status: outcome.status, webhookId };
      if (outcome.kind === 'answered' && outcome.body) {
        // What the receiver said is kept on the step's row, read by the console, not in the failure (history).
        const response = excerpt(outcome.body);
        await withTenant(ds, input.tenantId, (m) => setStepOutput(m, { runId: input.runId, path: input.path }, { status: outcome.status, response }));
      }
      return failureOf(outcome, input.timeoutSeconds);
    },
  };
}
