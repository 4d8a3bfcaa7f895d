// The inbound webhook of an automation triggered by `webhook`
// (docs/automations.md, "Inbound webhooks"): Standard Webhooks signing with
// the automation's own secret (`whsec_<base64 key>`, sealed at rest with
// associated data `automation:{tenantId}:{automationId}`). The URL names the
// tenant, since an automation id alone does not say whose tables to read.
// Anything that does not prove the secret — an unknown tenant or automation,
// another automation's secret, a bad signature, a timestamp outside the
// tolerance — answers the same 401 and records nothing. A delivery is one run
// per `webhook-id`, however often it is retried.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { findRun } from '../../db/automationRuns';
import { findTriggerableAutomation } from '../../db/automationTriggers';
import { isId, isUuid, newId } from '../../db/ids';
import { withTenant } from '../../db/tenantContext';
import { type Keyring, open } from '../../lib/encryption';
import { ApiError } from '../../lib/errors';
import { triggerPayloadProblem } from '../../lib/triggerPayload';
import { rateLimited, take } from '../rateLimit';
import { admitTenantRuns, type AutomationDeps, enqueueRun } from './queue';

export const WEBHOOK_ID_HEADER = 'webhook-id';
export const WEBHOOK_TIMESTAMP_HEADER = 'webhook-timestamp';
export const WEBHOOK_SIGNATURE_HEADER = 'webhook-signature';
/** Seconds a delivery's timestamp may be away from the server's clock. */
export const WEBHOOK_TOLERANCE_SECONDS = 300;
/** Deliveries per tenant per minute, on the shared limiter. */
export const WEBHOOK_RATE_PER_MINUTE = 600;

/** The associated data an automation's sealed secret is bound to. */
export const automationSecretAad = (tenantId: string, automationId: string) => `automation:${tenantId}:${automationId}`;

/** The Standard Webhooks signature of a delivery: `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`. */
export function signAutomationWebhook(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

/** Whether one of the header's space-separated signatures is the delivery's, within the tolerance. */
export function verifyAutomationWebhook(secret: string, h: { id: string; timestamp: string; signature: string }, body: string, now = Date.now()): boolean {
  if (!/^[0-9]{1,12}$/.test(h.timestamp) || h.id.length === 0 || h.id.length > 256) return false;
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
  const hit = await take(deps.dataSource, `automation-webhook:tenant:${d.tenantId}`, WEBHOOK_RATE_PER_MINUTE, 60_000);
  if (!hit.allowed) throw rateLimited(hit.retryAfterSeconds);
  const keyring = deps.keyring;
  const run = await withTenant(deps.dataSource, d.tenantId, async (m) => {
    const a = await findTriggerableAutomation(m, d.automationId);
    if (!a || !verifyAutomationWebhook(secretOf(keyring, d, a.webhook_secret), d.headers, d.rawBody)) throw webhookUnauthorized();
    // The sender proved the secret: from here on, answers may say what is wrong.
    if (!a.enabled || a.version === null || a.definition?.trigger.type !== 'webhook') {
      throw new ApiError(409, 'automation_not_triggerable', 'the automation is disabled, unpublished or not triggered by its webhook');
    }
    const payload = parsePayload(d.rawBody);
    const r = await enqueueRun(m, {
      id: newId('arun'),
      automationId: a.id,
      version: a.version,
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

/** The automation's secret; an unreadable one verifies nothing (the same 401). */
function secretOf(keyring: Keyring, d: WebhookDelivery, sealed: Parameters<typeof open>[1]): string {
  try {
    return open(keyring, sealed, automationSecretAad(d.tenantId, d.automationId));
  } catch {
    return '';
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
