// E-mail provider webhooks (spec §5.4) and one-click unsubscribe.
//
// `POST /api/webhooks/email/{provider}`: the signature — HMAC-SHA256 over
// `{timestamp}.{raw body}` with the provider's secret, compared in constant
// time, the timestamp within 300 s — is checked before anything else; a bad
// one is 401 and nothing is stored. The event is stored in webhook_events,
// unique on (source, event_id), in the same transaction that routes it, so a
// replayed delivery answers 200 and does nothing. Routing goes by the
// Message-ID our send put on the mail, which names its tenant, enrollment
// and step: the event is applied inside that tenant only (RLS), to the lead
// of that message only — never to a lead found by address. An event that
// cannot be routed is kept as a dead letter for operators to replay.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { type Client } from '@temporalio/client';
import { type DataSource, type EntityManager } from 'typeorm';
import { z } from 'zod';
import { newId } from '../../db/ids';
import { withTenant } from '../../db/tenantContext';
import { bounceSignal, parseSendMessageId, replySignal, unsubscribeSignal } from '../../workflows/enrollLead.shared';
import { type AppDeps } from '../deps';
import { signalEnrollments } from '../../services/outreach/enrollments';
import { ApiError, notFound } from '../../lib/errors';
import { decodeCursor, page } from '../../db/pagination';
import { listQuery } from '../pagination';
import { assertNoNul } from '../middleware/inputGuard';
import { type Routes } from '../routing';
import * as R from '../schemas/responses';
import { suppressAddress } from '../../services/outreach/leads';

export const SIGNATURE_HEADER = 'x-tenantflow-signature';
export const TIMESTAMP_HEADER = 'x-tenantflow-timestamp';
export const TOLERANCE_SECONDS = 300;

/** The signature a provider sends: `v1=` + hex HMAC-SHA256 of `{timestamp}.{body}`. */
export function signWebhook(secret: string, timestamp: number, rawBody: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex')}`;
}

export function verifyWebhook(secret: string, header: string, timestampHeader: string, rawBody: string, now = Date.now()): boolean {
  const timestamp = Number(timestampHeader);
  if (!/^\d{1,12}$/.test(timestampHeader) || Math.abs(now / 1000 - timestamp) > TOLERANCE_SECONDS) return false;
  const expected = Buffer.from(signWebhook(secret, timestamp, rawBody));
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const eventSchema = z.object({
  id: z.string().min(1).max(300),
  type: z.enum(['reply', 'bounce', 'open']),
  messageId: z.string().min(1).max(500),
  occurredAt: z.string().max(40).optional(),
  reply: z.object({ subject: z.string().max(1000).default(''), text: z.string().max(100_000).default('') }).optional(),
});
type EmailEvent = z.infer<typeof eventSchema>;

interface RouteResult {
  status: 'processed' | 'dead_letter';
  tenantId?: string;
  error?: string;
}

/**
 * Applies one event inside the transaction `m` (which also holds the
 * webhook_events row). Signals go out before the commit: if Temporal cannot
 * take them, the transaction rolls back and the provider's retry comes again.
 */
async function routeEvent(m: EntityManager, client: Client, event: EmailEvent): Promise<RouteResult> {
  const ref = parseSendMessageId(event.messageId);
  if (!ref) return { status: 'dead_letter', error: 'the Message-ID is not one Tenantflow sent' };
  const [tenant] = (await m.query('SELECT id FROM tenants WHERE id = $1', [ref.tenantId])) as unknown[];
  if (!tenant) return { status: 'dead_letter', error: 'no such tenant' };
  await m.query("SELECT set_config('app.tenant_id', $1, true)", [ref.tenantId]);
  try {
    const [msg] = (await m.query(
      "SELECT m.id, m.customer_id, m.campaign_id, m.enrollment_id, m.lead_id, m.inbox_id, e.status AS enrollment_status, e.sequence_version FROM messages m JOIN enrollments e ON e.id = m.enrollment_id WHERE m.message_id = $1 AND m.enrollment_id = $2 AND m.step = $3 AND m.direction = 'outbound'",
      [`<${event.messageId.replace(/^<|>$/g, '')}>`, ref.enrollmentId, ref.step],
    )) as { id: string; customer_id: string; campaign_id: string; enrollment_id: string; lead_id: string; inbox_id: string | null; enrollment_status: string; sequence_version: number | null }[];
    if (!msg) return { status: 'dead_letter', error: 'no message with this Message-ID in its tenant' };
    const key = { id: msg.enrollment_id, campaign_id: msg.campaign_id, lead_id: msg.lead_id };
    const running = ['active', 'paused'].includes(msg.enrollment_status);
    if (event.type === 'open') {
      await m.query('UPDATE messages SET opens = opens + 1, opened_at = coalesce(opened_at, now()), updated_at = now() WHERE id = $1', [msg.id]);
    } else if (event.type === 'reply') {
      await m.query(
        `INSERT INTO messages (tenant_id, id, customer_id, campaign_id, enrollment_id, lead_id, inbox_id, direction, status, message_id, subject, body)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'inbound', 'received', $8, $9, $10) ON CONFLICT (tenant_id, message_id) DO NOTHING`,
        [ref.tenantId, newId('msg'), msg.customer_id, msg.campaign_id, msg.enrollment_id, msg.lead_id, msg.inbox_id, `reply:${event.id}`, event.reply?.subject ?? '', event.reply?.text ?? ''],
      );
      await m.query("UPDATE leads SET status = 'replied', updated_at = now() WHERE id = $1 AND status = 'active'", [msg.lead_id]);
      if (running || msg.enrollment_status === 'pending') await m.query("UPDATE enrollments SET status = 'replied', next_send_at = NULL, updated_at = now() WHERE id = $1", [msg.enrollment_id]);
      if (running) await signalEnrollments(client, ref.tenantId, [key], replySignal);
    } else {
      await m.query("UPDATE leads SET status = 'bounced', updated_at = now() WHERE id = $1", [msg.lead_id]);
      if (running || msg.enrollment_status === 'pending') await m.query("UPDATE enrollments SET status = 'bounced', next_send_at = NULL, updated_at = now() WHERE id = $1", [msg.enrollment_id]);
      if (running) await signalEnrollments(client, ref.tenantId, [key], bounceSignal);
    }
    return { status: 'processed', tenantId: ref.tenantId };
  } finally {
    await m.query("SELECT set_config('app.tenant_id', '', true)");
  }
}

async function recordAndRoute(ds: DataSource, client: Client, source: string, event: EmailEvent, payload: unknown): Promise<{ duplicate: boolean } & RouteResult> {
  return ds.transaction(async (m) => {
    const inserted = (await m.query(
      "INSERT INTO webhook_events (id, source, event_id, type, status, payload) VALUES ($1, $2, $3, $4, 'processed', $5::jsonb) ON CONFLICT (source, event_id) DO NOTHING RETURNING id",
      [newId('whk'), source, event.id, event.type, JSON.stringify(payload)],
    )) as { id: string }[];
    if (inserted.length === 0) return { duplicate: true, status: 'processed' };
    const result = await routeEvent(m, client, event);
    await m.query('UPDATE webhook_events SET status = $2, routed_tenant_id = $3, error = $4, processed_at = now() WHERE id = $1', [inserted[0]!.id, result.status, result.tenantId ?? null, result.error ?? null]);
    return { duplicate: false, ...result };
  });
}

export function webhookRoutes(r: Routes, deps: AppDeps & { client: Client; emailWebhookSecrets?: Record<string, string> }) {
  const ds = deps.dataSource;
  // A Map, not an object: `__proto__`, `constructor`, … are just unknown providers.
  const secrets = new Map(Object.entries(deps.emailWebhookSecrets ?? {}));

  r.add({ method: 'post', path: '/api/webhooks/email/:provider', response: R.webhookReceived, summary: 'E-mail provider events (reply, bounce, open), HMAC-signed', tag: 'webhooks', auth: 'public' }, async ({ ctx }) => {
    const provider = ctx.params.provider ?? '';
    const secret = secrets.get(provider);
    if (!secret) throw notFound('webhook');
    const raw = ctx.state.rawBody ?? '';
    if (!verifyWebhook(secret, ctx.get(SIGNATURE_HEADER), ctx.get(TIMESTAMP_HEADER), raw)) {
      throw new ApiError(401, 'invalid_signature', `the ${SIGNATURE_HEADER} header does not match the body (or the timestamp is outside ${TOLERANCE_SECONDS} s)`);
    }
    let payload: unknown;
    try {
      payload = JSON.parse(raw);
    } catch {
      throw new ApiError(400, 'invalid_json', 'request body is not valid JSON');
    }
    assertNoNul(payload);
    const parsed = eventSchema.safeParse(payload);
    if (!parsed.success) throw new ApiError(400, 'validation_failed', 'not an e-mail event', parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(root)', message: i.message, code: i.code })));
    const result = await recordAndRoute(ds, deps.client, `email:${provider}`, parsed.data, payload);
    ctx.body = { received: true, duplicate: result.duplicate, status: result.status };
  });

  r.add({ method: 'get', path: '/api/platform/webhook-events', response: R.webhookEvents, summary: 'Webhook events that could not be routed (dead letters), newest first', tag: 'platform', auth: 'platform', query: listQuery.extend({ status: z.enum(['dead_letter', 'processed']).default('dead_letter') }) }, async ({ ctx, query }) => {
    const params: unknown[] = [query.status];
    let where = 'status = $1';
    const after = decodeCursor(query.cursor);
    if (after) where += ` AND id < $${params.push(after)}`;
    const rows = (await ds.query(`SELECT id, source, event_id, type, status, error, attempts, received_at, processed_at FROM webhook_events WHERE ${where} ORDER BY id DESC LIMIT ${query.limit + 1}`, params)) as Record<string, unknown>[];
    const p = page(rows, query.limit, (r) => String(r.id));
    ctx.body = {
      data: p.data.map((r) => ({ id: r.id, source: r.source, eventId: r.event_id, type: r.type, status: r.status, error: r.error, attempts: r.attempts, receivedAt: r.received_at, processedAt: r.processed_at })),
      nextCursor: p.nextCursor,
    };
  });

  r.add({ method: 'post', path: '/api/platform/webhook-events/:id/replay', response: R.webhookReplayed, summary: 'Route a dead-lettered event again', tag: 'platform', auth: 'platform' }, async ({ ctx }) => {
    const id = ctx.params.id ?? '';
    const result = await ds.transaction(async (m) => {
      const [row] = (await m.query('SELECT id, status, payload FROM webhook_events WHERE id = $1 FOR UPDATE', [id])) as { id: string; status: string; payload: unknown }[];
      if (!row) throw notFound('webhook event');
      if (row.status !== 'dead_letter') throw new ApiError(409, 'not_dead_lettered', 'only dead-lettered events are replayed');
      const event = eventSchema.parse(row.payload);
      const routed = await routeEvent(m, deps.client, event);
      await m.query('UPDATE webhook_events SET status = $2, routed_tenant_id = $3, error = $4, attempts = attempts + 1, processed_at = now() WHERE id = $1', [row.id, routed.status, routed.tenantId ?? null, routed.error ?? null]);
      return routed;
    });
    ctx.body = { id, status: result.status, error: result.error ?? null };
  });

  // One-click unsubscribe (RFC 8058): the token on every message names its
  // tenant and is otherwise random; POST unsubscribes, GET shows a button.
  const tokenTenant = (token: string) => /^u_([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})_[A-Za-z0-9_-]{20,64}$/.exec(token)?.[1];
  r.add({ method: 'get', path: '/api/unsubscribe/:token', html: true, summary: 'Unsubscribe page for a recipient', tag: 'webhooks', auth: 'public' }, async ({ ctx }) => {
    if (!tokenTenant(ctx.params.token ?? '')) throw notFound('unsubscribe link');
    ctx.type = 'text/html';
    ctx.body = `<!doctype html><meta charset="utf-8"><title>Unsubscribe</title><form method="post"><p>Stop receiving these e-mails?</p><button>Unsubscribe</button></form>`;
  });
  r.add({ method: 'post', path: '/api/unsubscribe/:token', response: R.unsubscribed, summary: 'One-click unsubscribe (List-Unsubscribe-Post)', tag: 'webhooks', auth: 'public' }, async ({ ctx }) => {
    const token = ctx.params.token ?? '';
    const tenantId = tokenTenant(token);
    if (!tenantId) throw notFound('unsubscribe link');
    const stopped = await withTenant(ds, tenantId, async (m) => {
      const [msg] = (await m.query('SELECT l.email FROM messages m JOIN leads l ON l.id = m.lead_id WHERE m.unsubscribe_token = $1', [token])) as { email: string }[];
      if (!msg) throw notFound('unsubscribe link');
      return suppressAddress(m, msg.email, 'unsubscribed');
    });
    await signalEnrollments(deps.client, tenantId, stopped, unsubscribeSignal);
    ctx.body = { unsubscribed: true };
  });

}
