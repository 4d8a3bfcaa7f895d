// The inbound webhook of an automation triggered by `webhook`
// (docs/automations.md, "Inbound webhooks"): Standard Webhooks signing with
// the automation's own secret (`whsec_<base64 key>`, sealed at rest with
// associated data `automation:{tenantId}:{automationId}`). The URL names the
// tenant, since an automation id alone does not say whose tables to read.
// Anything that does not prove the secret — an unknown tenant or automation,
// another automation's secret, a bad signature, a timestamp outside the
// tolerance — answers the same 401 and records nothing, after the same work
// (an unknown automation is checked against a throwaway secret). A delivery
// is one run per `webhook-id`, however often it is retried. The automation's
// own outbound calls (`webhook_call`) are signed with the same secret; their
// ids (`{runId}:{path}`) are refused here, so a receiver that replays one
// cannot trigger the automation. Only deliveries that verify count against
// the tenant's rate, so unsigned floods cannot crowd out its senders.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { findRun } from '../../db/automationRuns';
import { findTriggerableAutomation } from '../../db/automationTriggers';
import { isId, isUuid, newId } from '../../db/ids';
import { withTenant } from '../../db/tenantContext';
import { type Keyring, open } from '../../lib/encryption';
import { ApiError } from '../../lib/errors';
import { automationSecretAad } from '../../lib/secretScopes';
import { triggerPayloadProblem } from '../../lib/triggerPayload';
import { signStandardWebhook } from '../../lib/webhookCall';
import { rateLimited, take } from '../rateLimit';
import { admitTenantRuns, type AutomationDeps, enqueueRun } from './queue';

export const WEBHOOK_ID_HEADER = 'webhook-id';
export const WEBHOOK_TIMESTAMP_HEADER = 'webhook-timestamp';
export const WEBHOOK_SIGNATURE_HEADER = 'webhook-signature';
/** Seconds a delivery's timestamp may be away from the server's clock. */
export const WEBHOOK_TOLERANCE_SECONDS = 300;
/** Verified deliveries per tenant per minute, on the shared limiter. */
export const WEBHOOK_RATE_PER_MINUTE = 600;

/** The id of an automation's own outbound call (`{runId}:{path}`, docs/automations.md "Webhook calls"). */
const OUTBOUND_ID = /^arun_[0-9a-z]{26}:/;

/** What an unknown automation is checked against, so its 401 takes the work of a wrong secret's. */
const THROWAWAY_SECRET = `whsec_${randomBytes(32).toString('base64')}`;

/** The Standard Webhooks signature of a delivery: `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`. */
export const signAutomationWebhook = signStandardWebhook;

/** Whether one of the header's space-separated signatures is the delivery's, within the tolerance. */
export function verifyAutomationWebhook(secret: string, h: { id: string; timestamp: string; signature: string }, body: string, now = Date.now()): boolean {
  if (!/^[0-9]{1,12}$/.test(h.timestamp) || h.id.length === 0 || h.id.length > 256 || OUTBOUND_ID.test(h.id)) return false;
  const ts = Number(h.timestamp);
  if (Math.abs(now / 1000 - ts) > WEBHOOK_TOLERANCE_SECONDS) return false;
  const expected = Buffer.from(signAutomationWebhook(secret, h.id, ts, body));
  return h.signature.split(' ').some((s) => {
    const given = Buffer.from(s);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

/** The one answer to a delivery that does not prove the secret. */
export const webhookUnauthorized = () =>
  new ApiError(401, 'invalid_signature', 'the webhook signature does not verify for this URL (or its timestamp is too old)');

export interface WebhookDelivery {
  tenantId: string;
  automationId: string;
  headers: { id: string; timestamp: string; signature: string };
  rawBody: string;
}

/** Verifies a delivery and records its run; answers the run (the same one for a retried delivery). */
export async function receiveAutomationWebhook(deps: AutomationDeps & { keyring?: Keyring }, d: WebhookDelivery): Promise<{ runId: string; status: string }> {
  if (!isUuid(d.tenantId) || !isId('auto', d.automationId) || !deps.keyring) throw webhookUnauthorized();
  const keyring = deps.keyring;
  const a = await withTenant(deps.dataSource, d.tenantId, async (m) => {
    const found = await findTriggerableAutomation(m, d.automationId);
    const secret = found ? secretOf(keyring, d, found.webhook_secret) : undefined;
    const verified = verifyAutomationWebhook(secret ?? THROWAWAY_SECRET, d.headers, d.rawBody);
    return found && secret !== undefined && verified ? found : undefined;
  });
  if (!a) throw webhookUnauthorized();
  // The sender proved the secret: from here on, answers may say what is wrong.
  const hit = await take(deps.dataSource, `automation-webhook:tenant:${d.tenantId}`, WEBHOOK_RATE_PER_MINUTE, 60_000);
  if (!hit.allowed) throw rateLimited(hit.retryAfterSeconds);
  if (!a.enabled || a.version === null || a.definition?.trigger.type !== 'webhook') {
    throw new ApiError(409, 'automation_not_triggerable', 'the automation is disabled, unpublished or not triggered by its webhook');
  }
  const version = a.version;
  const payload = parsePayload(d.rawBody);
  const run = await withTenant(deps.dataSource, d.tenantId, async (m) => {
    const r = await enqueueRun(m, {
      id: newId('arun'),
      automationId: a.id,
      version,
      customerId: a.customer_id,
      leadId: null,
      trigger: { type: 'webhook', eventId: d.headers.id, payload },
      dedupeKey: `webhook:${d.headers.id}`,
    });
    return { runId: r.id, status: r.created ? 'queued' : ((await findRun(m, r.id))?.status ?? 'queued') };
  });
  await admitTenantRuns(deps, d.tenantId);
  return run;
}

/** The automation's secret; undefined when it cannot be opened (a key gone from the keyring), which verifies nothing. */
function secretOf(keyring: Keyring, d: WebhookDelivery, sealed: Parameters<typeof open>[1]): string | undefined {
  try {
    return open(keyring, sealed, automationSecretAad(d.tenantId, d.automationId));
  } catch {
    return undefined;
  }
}

/** The delivery's JSON body as the trigger's payload (a value that is not an object is `{ body: value }`). */
function parsePayload(raw: string): Record<string, unknown> {
  if (raw.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new ApiError(400, 'invalid_json', 'request body is not valid JSON');
  }
  const problem = triggerPayloadProblem(value);
  if (problem) throw new ApiError(400, 'validation_failed', `the body ${problem}`);
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : { body: value };
}
