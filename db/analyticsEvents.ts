// The analytics event stream (docs/analytics.md). Events are written with the
// fact they record: a statement that records a fact adds `eventInsert(...)`
// as one more CTE (one statement, no extra round trip), and code that
// records several facts in a transaction calls `insertEvents` in it. Either
// way a fact delivered twice is one event (`ON CONFLICT` on the tenant's
// dedupe key), and an event that cannot be written rolls its fact back.
import { type EntityManager } from 'typeorm';
import { type ProductEventType } from '../lib/analyticsEvents';

/** The event's columns as SQL expressions over the statement's `from`; those left out are NULL. */
export interface EventColumns {
  /** An SQL expression or a quoted literal, e.g. `'message.sent'`. */
  type: string;
  /** When it happened; now() when left out. */
  occurredAt?: string;
  customerId?: string;
  campaignId?: string;
  step?: string;
  enrollmentId?: string;
  messageId?: string;
  leadId?: string;
  conversationId?: string;
  automationId?: string;
  /** Unique per tenant: the same fact twice gives the same key. */
  dedupeKey: string;
  /** A jsonb expression; an empty object when left out. */
  properties?: string;
}

/**
 * An INSERT of one event per row of `from` (a CTE or table expression, with
 * an optional `where`), to embed as a CTE in the statement that records the
 * fact: `WITH done AS (UPDATE … RETURNING …), ev AS (${eventInsert('done', …)}) …`.
 * A data-modifying CTE runs whether or not the main statement reads it.
 */
export function eventInsert(from: string, c: EventColumns, where?: string): string {
  const or = (e: string | undefined) => e ?? 'NULL';
  return `INSERT INTO analytics_events (tenant_id, type, occurred_at, customer_id, campaign_id, step, enrollment_id, message_id, lead_id, conversation_id, automation_id, properties, dedupe_key)
       SELECT current_setting('app.tenant_id')::uuid, ${c.type}, ${c.occurredAt ?? 'now()'}, ${or(c.customerId)}, ${or(c.campaignId)}, ${or(c.step)}::int,
              ${or(c.enrollmentId)}, ${or(c.messageId)}, ${or(c.leadId)}, ${or(c.conversationId)}, ${or(c.automationId)}, ${c.properties ?? "'{}'::jsonb"}, ${c.dedupeKey}
         FROM ${from}${where ? ` WHERE ${where}` : ''}
       ON CONFLICT (tenant_id, dedupe_key) DO NOTHING`;
}

/** One event as application code writes it. */
export interface NewEvent {
  type: ProductEventType | `cta.${string}`;
  occurredAt?: Date;
  customerId?: string | null;
  campaignId?: string | null;
  step?: number | null;
  enrollmentId?: string | null;
  messageId?: string | null;
  leadId?: string | null;
  conversationId?: string | null;
  automationId?: string | null;
  surface?: string | null;
  properties?: Record<string, unknown>;
  dedupeKey: string;
}

/**
 * Writes events in the caller's transaction, in one statement; an event whose
 * dedupe key the tenant already has is skipped. Answers how many were new.
 */
export async function insertEvents(m: EntityManager, events: NewEvent[]): Promise<number> {
  if (events.length === 0) return 0;
  const col = <T>(f: (e: NewEvent) => T) => events.map(f);
  const rows = (await m.query(
    `INSERT INTO analytics_events (tenant_id, type, occurred_at, customer_id, campaign_id, step, enrollment_id, message_id, lead_id, conversation_id, automation_id, surface, properties, dedupe_key)
     SELECT current_setting('app.tenant_id')::uuid, t.* FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::int[], $6::text[], $7::text[],
            $8::text[], $9::text[], $10::text[], $11::text[], $12::jsonb[], $13::text[]) t
     ON CONFLICT (tenant_id, dedupe_key) DO NOTHING RETURNING seq`,
    [
      col((e) => e.type),
      col((e) => e.occurredAt ?? new Date()),
      col((e) => e.customerId ?? null),
      col((e) => e.campaignId ?? null),
      col((e) => e.step ?? null),
      col((e) => e.enrollmentId ?? null),
      col((e) => e.messageId ?? null),
      col((e) => e.leadId ?? null),
      col((e) => e.conversationId ?? null),
      col((e) => e.automationId ?? null),
      col((e) => e.surface ?? null),
      col((e) => JSON.stringify(e.properties ?? {})),
      col((e) => e.dedupeKey),
    ],
  )) as unknown[];
  return rows.length;
}

/**
 * Deletes up to `limit` of the tenant's events that happened more than `days`
 * days ago (retention, docs/analytics.md); answers how many. Bounded so one
 * tenant's backlog never holds a long transaction.
 */
export async function deleteEventsOlderThan(m: EntityManager, days: number, limit: number): Promise<number> {
  const [, n] = (await m.query(
    `DELETE FROM analytics_events WHERE (tenant_id, seq) IN (
       SELECT tenant_id, seq FROM analytics_events WHERE occurred_at < now() - $1::int * interval '1 day' LIMIT $2)`,
    [days, limit],
  )) as [unknown, number];
  return n;
}

/**
 * The epoch milliseconds of a timestamp expression, truncated as a
 * JavaScript Date's: the `{ms}` of a dedupe key (docs/analytics.md), the
 * same expression in the live writes and the backfill.
 */
export const epochMs = (t: string) => `floor(extract(epoch FROM ${t}) * 1000)::bigint`;

/**
 * The columns of an event about an outbound message, over a row `r` that
 * carries the message's own columns (a RETURNING of messages).
 */
export const messageRefs = (r: string) => ({
  customerId: `${r}.customer_id`,
  campaignId: `${r}.campaign_id`,
  step: `${r}.step`,
  enrollmentId: `${r}.enrollment_id`,
  messageId: `${r}.id`,
  leadId: `${r}.lead_id`,
  conversationId: `${r}.conversation_id`,
});

/** What a RETURNING of messages gives messageRefs. */
export const MESSAGE_REF_COLUMNS = 'id, customer_id, campaign_id, step, enrollment_id, lead_id, conversation_id';

/**
 * What an upsert of conversations returns for conversationEvent: `inserted`
 * is true for a row the statement made (`xmax = 0`: an insert, not the
 * conflict's update).
 */
export const CONVERSATION_UPSERT_RETURNING = 'id, customer_id, lead_id, created_at, (xmax = 0) AS inserted';

/**
 * A conversation's `conversation.opened` or `conversation.closed` for the
 * rows of `from` (a RETURNING of conversations with id, customer_id,
 * lead_id and the timestamp column `at`), keyed by the conversation and
 * the milliseconds of `at`.
 */
export const conversationEvent = (from: string, type: 'conversation.opened' | 'conversation.closed', at: string, where?: string) =>
  eventInsert(
    from,
    {
      type: `'${type}'`,
      occurredAt: `${from}.${at}`,
      customerId: `${from}.customer_id`,
      leadId: `${from}.lead_id`,
      conversationId: `${from}.id`,
      dedupeKey: `'${type}:' || ${from}.id || ':' || ${epochMs(`${from}.${at}`)}`,
    },
    where,
  );
