// Triggering automations (docs/automations.md, "Triggers"): by hand
// (`execute`, a real run or a dry run), through an automation's own signed
// inbound webhook, and an automation's schedule. Declarations over
// services/automations.
import { type Client } from '@temporalio/client';
import { type Keyring } from '../../lib/encryption';
import { notFound } from '../../lib/errors';
import { executeAutomation, findTriggerableAutomationFor } from '../../services/automations/execute';
import { nextScheduleTimes } from '../../services/automations/schedules';
import { receiveAutomationWebhook, WEBHOOK_ID_HEADER, WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TIMESTAMP_HEADER } from '../../services/automations/webhooks';
import { type AppDeps } from '../deps';
import { type Routes } from '../routing';
import * as S from '../schemas/automationTriggers';
import * as R from '../schemas/automationTriggers.responses';

const automation = { id: { prefix: 'auto', resource: 'automation' } } as const;

export function automationTriggerRoutes(r: Routes, deps: AppDeps & { client: Client; taskQueue: string; keyring?: Keyring }) {
  const run = { dataSource: deps.dataSource, client: deps.client, taskQueue: deps.taskQueue };

  r.add(
    {
      method: 'post',
      path: '/api/automations/:id/execute',
      summary:
        'Run an automation by hand with an input payload (answers at once with the queued run); `dryRun` evaluates and records what each action would do, and may run any version',
      tag: 'automations',
      auth: 'tenant',
      permission: 'automations.execute',
      params: automation,
      idempotent: true,
      body: S.executeAutomation,
      status: 202,
      response: R.triggeredRun,
      errors: { 409: 'the automation is disabled or unpublished, or the version named is not the live one (a real run)' },
    },
    ({ access, params, body, ctx }) => executeAutomation(run, access, params.id!, body, ctx.get('idempotency-key') || undefined),
  );

  r.add(
    {
      method: 'get',
      path: '/api/automations/:id/schedule',
      summary: 'The next times an automation triggered by `schedule` runs (in UTC; its cron is read in the tenant’s time zone)',
      tag: 'automations',
      auth: 'tenant',
      permission: 'automations.read',
      params: automation,
      response: R.automationSchedule,
    },
    async ({ access, params }) => {
      if (!(await findTriggerableAutomationFor(access, params.id!))) throw notFound('automation');
      const times = await nextScheduleTimes(run, access.tenantId, params.id!);
      return { scheduled: times !== undefined, nextActionTimes: (times ?? []).map((t) => t.toISOString()) };
    },
  );

  r.add(
    {
      method: 'post',
      path: '/api/webhooks/automations/:tenantId/:id',
      summary:
        'An automation’s inbound webhook (trigger `webhook`), signed Standard Webhooks style with the automation’s secret: webhook-id, webhook-timestamp, webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">; one run per webhook-id',
      tag: 'webhooks',
      auth: 'public',
      status: 202,
      response: R.triggeredRun,
      errors: {
        401: 'the signature does not verify: a wrong secret, an unknown tenant or automation, or a timestamp more than 5 minutes away (the same answer for each)',
        409: 'signed correctly, but the automation is disabled, unpublished or not triggered by its webhook',
        429: 'the tenant’s inbound automation webhooks are over their rate (Retry-After)',
      },
    },
    ({ ctx, params }) =>
      receiveAutomationWebhook(
        { ...run, keyring: deps.keyring },
        {
          tenantId: params.tenantId ?? '',
          automationId: params.id ?? '',
          headers: { id: ctx.get(WEBHOOK_ID_HEADER), timestamp: ctx.get(WEBHOOK_TIMESTAMP_HEADER), signature: ctx.get(WEBHOOK_SIGNATURE_HEADER) },
          rawBody: ctx.state.rawBody ?? '',
        },
      ),
  );
}
