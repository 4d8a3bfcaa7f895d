// E-mail provider events and one-click unsubscribe.
//
// An event is stored in webhook_events, unique on (source, event_id), in the
// same transaction that routes it, so a replayed delivery does nothing.
// Routing goes by the Message-ID our send put on the mail, which names its
// tenant, enrollment and step: the event is applied inside that tenant only
// (RLS), to the lead of that message only — never to a lead found by address.
// An event that cannot be routed is kept as a dead letter for operators to
// replay. (The signature is checked by the caller before any of this.)
import { type DataSource, type EntityManager } from 'typeorm';
import { z } from 'zod';
import { recordReplyOrBounce } from '../../db/emailEvents';
import { newId } from '../../db/ids';
import { countMessageOpen, findEventMessage, findUnsubscribeAddress } from '../../db/messages';
import { type ListParams } from '../../db/pagination';
import { withTenant, withTenantInTransaction } from '../../db/tenantContext';
import { tenantExists } from '../../db/tenants';
import { listWebhookEventsPage, lockWebhookEvent, recordWebhookReplay, type RouteResult, storeAndRoute } from '../../db/webhookEvents';
import { ApiError, notFound } from '../../lib/errors';
import { normalizeMessageId } from '../../lib/messageIds';
import { bounceSignal, parseSendMessageId, replySignal, unsubscribeSignal } from '../../workflows/enrollLead.contract';
import { signalEnrollments, type WorkflowClientDeps } from './enrollments';
import { suppressAddress } from './leads';

export const emailEventSchema = z.object({
  id: z.string().min(1).max(300),
  type: z.enum(['reply', 'bounce', 'open']),
  messageId: z.string().min(1).max(500),
  occurredAt: z.string().max(40).optional(),
  reply: z
    .object({
      subject: z.string().max(1000).default(''),
      text: z.string().max(100_000).default(''),
      /** The reply's own Message-ID: stored under it, so the same reply read from the mailbox later is not stored again. */
      messageId: z.string().trim().min(3).max(500).optional(),
      /** The reply's sender. */
      from: z.string().trim().toLowerCase().max(320).optional(),
    })
    .optional(),
});
export type EmailEvent = z.infer<typeof emailEventSchema>;

/**
 * The payload with NUL characters dropped from the reply's subject and text:
 * those are the sender's mail, which may carry one (an encoded `=00`), and
 * PostgreSQL text (and jsonb, where the payload is kept) cannot hold it.
 * Refusing the delivery would lose the reply; any other field with a NUL is
 * still refused by the route.
 */
export function withoutNulInReply(payload: unknown): unknown {
  if (typeof payload !== 'object' || payload === null || !('reply' in payload)) return payload;
  const reply = (payload as { reply: unknown }).reply;
  if (typeof reply !== 'object' || reply === null) return payload;
  const clean = (v: unknown) => (typeof v === 'string' ? v.replaceAll('\u0000', '') : v);
  const fields = reply as Record<string, unknown>;
  return {
    ...payload,
    reply: {
      ...fields,
      ...('subject' in fields ? { subject: clean(fields.subject) } : {}),
      ...('text' in fields ? { text: clean(fields.text) } : {}),
    },
  };
}

/** Applies one event to the message it names, in its tenant. */
async function applyInTenant(
  m: EntityManager,
  deps: WorkflowClientDeps,
  tenantId: string,
  ref: { enrollmentId: string; step: number },
  event: EmailEvent,
): Promise<RouteResult> {
  const msg = await findEventMessage(m, `<${event.messageId.replace(/^<|>$/g, '')}>`, ref.enrollmentId, ref.step);
  if (!msg) return { status: 'dead_letter', error: 'no message with this Message-ID in its tenant' };
  const key = { id: msg.enrollment_id, campaign_id: msg.campaign_id, lead_id: msg.lead_id };
  const running = ['active', 'paused'].includes(msg.enrollment_status);
  const stops = running || msg.enrollment_status === 'pending';
  if (event.type === 'open') {
    await countMessageOpen(m, msg.id, event.id);
    return { status: 'processed', tenantId };
  }
  const outcome = event.type === 'reply' ? 'replied' : 'bounced';
  // One statement (a round trip, not three): the reply's inbound message, the
  // lead's status and the enrollment's end.
  await recordReplyOrBounce(m, tenantId, msg, {
    inboundId: newId('msg'),
    // Under the reply's own Message-ID when the provider gives it: the key the
    // mailbox reader stores the same mail under (db/inboundMail.ts).
    inboundMessageId: event.reply?.messageId ? normalizeMessageId(event.reply.messageId) : `reply:${event.id}`,
    subject: event.reply?.subject ?? '',
    body: event.reply?.text ?? '',
    fromEmail: event.reply?.from ?? null,
    outcome,
    stops,
  });
  // The statement above wrote the stop on the row and the lead: the workflow need not write it again.
  if (running) await signalEnrollments(deps, tenantId, [key], outcome === 'replied' ? replySignal : bounceSignal, { recorded: true });
  return { status: 'processed', tenantId };
}

/**
 * Routes one event inside the transaction `m` (which also holds the
 * webhook_events row). Signals go out before the commit: if Temporal cannot
 * take them, the transaction rolls back and the provider's retry comes again.
 */
async function routeEvent(m: EntityManager, deps: WorkflowClientDeps, event: EmailEvent): Promise<RouteResult> {
  const ref = parseSendMessageId(event.messageId);
  if (!ref) return { status: 'dead_letter', error: 'the Message-ID is not one Tenantflow sent' };
  const routed = await withTenantInTransaction(m, ref.tenantId, (tm) => applyInTenant(tm, deps, ref.tenantId, ref, event));
  // A tenant that does not exist has no messages either: say which it was only then.
  if (routed.status === 'dead_letter') {
    if (!(await tenantExists(m, ref.tenantId))) return { status: 'dead_letter', error: 'no such tenant' };
  }
  return routed;
}

/** Stores a verified event and routes it in one transaction; a delivery seen before does nothing. */
export function receiveEmailEvent(ds: DataSource, deps: WorkflowClientDeps, source: string, event: EmailEvent, payload: unknown) {
  return storeAndRoute(ds, { source, eventId: event.id, type: event.type, payload }, (m) => routeEvent(m, deps, event));
}

/** Webhook events by status (dead letters by default), newest first. */
export async function listWebhookEvents(ds: DataSource, query: ListParams & { status: 'dead_letter' | 'processed' }) {
  const p = await listWebhookEventsPage(ds.manager, query);
  return {
    data: p.data.map((r) => ({
      id: r.id,
      source: r.source,
      eventId: r.event_id,
      type: r.type,
      status: r.status,
      error: r.error,
      attempts: r.attempts,
      receivedAt: r.received_at,
      processedAt: r.processed_at,
    })),
    nextCursor: p.nextCursor,
  };
}

/** How events of other sources (Stripe's) are routed again, by source. */
export type OtherRouters = Record<string, (m: EntityManager, payload: unknown) => Promise<RouteResult>>;

/** Routes a dead-lettered event again. */
export async function replayWebhookEvent(ds: DataSource, deps: WorkflowClientDeps, id: string, others: OtherRouters = {}) {
  const result = await ds.transaction(async (m) => {
    const row = await lockWebhookEvent(m, id);
    if (!row) throw notFound('webhook event');
    if (row.status !== 'dead_letter') throw new ApiError(409, 'not_dead_lettered', 'only dead-lettered events are replayed');
    const other = new Map(Object.entries(others)).get(row.source);
    const routed = other ? await other(m, row.payload) : await routeEvent(m, deps, emailEventSchema.parse(row.payload));
    await recordWebhookReplay(m, row.id, routed);
    return routed;
  });
  return { id, status: result.status, error: result.error ?? null };
}

/** The tenant an unsubscribe token names (`u_{tenant}_{random}`), or undefined for anything else. */
export const unsubscribeTokenTenant = (token: string) =>
  /^u_([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})_[A-Za-z0-9_-]{20,64}$/.exec(token)?.[1];

/** One-click unsubscribe (RFC 8058): suppresses the address in its tenant and stops every enrollment of it. */
export async function unsubscribeByToken(ds: DataSource, deps: WorkflowClientDeps, token: string) {
  const tenantId = unsubscribeTokenTenant(token);
  if (!tenantId) throw notFound('unsubscribe link');
  const stopped = await withTenant(ds, tenantId, async (m) => {
    const email = await findUnsubscribeAddress(m, token);
    if (email === undefined) throw notFound('unsubscribe link');
    return suppressAddress(m, email, 'unsubscribed');
  });
  await signalEnrollments(deps, tenantId, stopped, unsubscribeSignal);
  return { unsubscribed: true };
}
