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

// What a campaign's stats and charts count, one row per counted fact with its
// step and time (docs/analytics.md, "Stats and charts"): a message by its
// latest outcome event (sent, uncertain or failed: each in one), an enrollment's
// first reply, a bounced message, an unsubscribed enrollment, and — when the
// campaign tracks — a message's first human open and click. `$1` is the
// campaign; each fact is counted once however often it was recorded.
const CAMPAIGN_FACTS = `
  ev AS (SELECT type, step, message_id, enrollment_id, lead_id, occurred_at, seq, properties FROM analytics_events WHERE campaign_id = $1),
  tracked AS (SELECT coalesce((SELECT c.tracking FROM campaigns c WHERE c.id = $1), false) AS tracking),
  latest AS (
    SELECT DISTINCT ON (message_id) message_id, step, type, occurred_at FROM ev
     WHERE type IN ('message.sent', 'message.uncertain', 'message.failed') ORDER BY message_id, seq DESC),
  facts AS (
    SELECT CASE type WHEN 'message.sent' THEN 'sent' WHEN 'message.uncertain' THEN 'uncertain' ELSE 'errors' END AS kind, step, occurred_at FROM latest
    UNION ALL SELECT kind, step, occurred_at FROM (
      SELECT DISTINCT ON (enrollment_id) 'replied' AS kind, step, occurred_at FROM ev
       WHERE type = 'message.replied' AND enrollment_id IS NOT NULL ORDER BY enrollment_id, occurred_at, seq) r
    UNION ALL SELECT kind, step, occurred_at FROM (
      SELECT DISTINCT ON (message_id) 'bounced' AS kind, step, occurred_at FROM ev WHERE type = 'message.bounced' ORDER BY message_id, seq) b
    UNION ALL SELECT kind, NULL::int, occurred_at FROM (
      SELECT DISTINCT ON (coalesce(enrollment_id, lead_id)) 'unsubscribed' AS kind, occurred_at FROM ev
       WHERE type = 'lead.unsubscribed' ORDER BY coalesce(enrollment_id, lead_id), seq) u
    UNION ALL SELECT kind, step, occurred_at FROM (
      SELECT DISTINCT ON (type, message_id) CASE type WHEN 'message.opened' THEN 'opened' ELSE 'clicked' END AS kind, step, occurred_at FROM ev
       WHERE type IN ('message.opened', 'message.clicked') AND (SELECT tracking FROM tracked) AND properties->>'bot' IS DISTINCT FROM 'true'
       ORDER BY type, message_id, occurred_at, seq) t)`;

/** What a campaign's stats count. */
export const CAMPAIGN_FACT_KINDS = ['sent', 'uncertain', 'errors', 'replied', 'bounced', 'unsubscribed', 'opened', 'clicked'] as const;
export type CampaignFactKind = (typeof CAMPAIGN_FACT_KINDS)[number];

/** The campaign's counted facts per step (`step` null for those of no step: unsubscribes, a reply to nothing sent) and kind. */
export async function campaignFactCounts(m: EntityManager, campaignId: string): Promise<{ step: number | null; kind: CampaignFactKind; n: number }[]> {
  return (await m.query(`WITH ${CAMPAIGN_FACTS} SELECT step, kind, count(*)::int AS n FROM facts GROUP BY step, kind ORDER BY step NULLS LAST, kind`, [
    campaignId,
  ])) as { step: number | null; kind: CampaignFactKind; n: number }[];
}

export interface DailyCounts {
  day: string;
  sent: number;
  replied: number;
  bounced: number;
  opened: number;
  clicked: number;
}

/** The campaign's facts per day of `tz` from `from` to `to` (dates, inclusive), every day present. */
export async function campaignDailyCounts(m: EntityManager, campaignId: string, tz: string, from: string, to: string): Promise<DailyCounts[]> {
  return (await m.query(
    `WITH ${CAMPAIGN_FACTS},
     days AS (SELECT d::date AS day FROM generate_series($3::date, $4::date, interval '1 day') d),
     counted AS (
       SELECT (occurred_at AT TIME ZONE $2)::date AS day, kind FROM facts
        WHERE occurred_at >= ($3::date::timestamp AT TIME ZONE $2) AND occurred_at < (($4::date + 1)::timestamp AT TIME ZONE $2))
     SELECT to_char(d.day, 'YYYY-MM-DD') AS day,
            count(c.kind) FILTER (WHERE c.kind = 'sent')::int AS sent,
            count(c.kind) FILTER (WHERE c.kind = 'replied')::int AS replied,
            count(c.kind) FILTER (WHERE c.kind = 'bounced')::int AS bounced,
            count(c.kind) FILTER (WHERE c.kind = 'opened')::int AS opened,
            count(c.kind) FILTER (WHERE c.kind = 'clicked')::int AS clicked
       FROM days d LEFT JOIN counted c ON c.day = d.day
      GROUP BY d.day ORDER BY d.day`,
    [campaignId, tz, from, to],
  )) as DailyCounts[];
}

export interface CustomerDay {
  day: string;
  sent: number;
  replied: number;
  bounced: number;
  unsubscribed: number;
  leads: number;
  conversations: number;
}

/**
 * The customer's product events per day of `tz` from `from` to `to` (dates,
 * inclusive), every day present: each event is one fact, so these are plain
 * counts — every reply, not only an enrollment's first.
 */
export async function customerDailyCounts(m: EntityManager, customerId: string, tz: string, from: string, to: string): Promise<CustomerDay[]> {
  return (await m.query(
    `WITH days AS (SELECT d::date AS day FROM generate_series($3::date, $4::date, interval '1 day') d),
     counted AS (
       SELECT (occurred_at AT TIME ZONE $2)::date AS day, type FROM analytics_events
        WHERE customer_id = $1 AND type IN ('message.sent', 'message.replied', 'message.bounced', 'lead.unsubscribed', 'lead.created', 'conversation.opened')
          AND occurred_at >= ($3::date::timestamp AT TIME ZONE $2) AND occurred_at < (($4::date + 1)::timestamp AT TIME ZONE $2))
     SELECT to_char(d.day, 'YYYY-MM-DD') AS day,
            count(c.type) FILTER (WHERE c.type = 'message.sent')::int AS sent,
            count(c.type) FILTER (WHERE c.type = 'message.replied')::int AS replied,
            count(c.type) FILTER (WHERE c.type = 'message.bounced')::int AS bounced,
            count(c.type) FILTER (WHERE c.type = 'lead.unsubscribed')::int AS unsubscribed,
            count(c.type) FILTER (WHERE c.type = 'lead.created')::int AS leads,
            count(c.type) FILTER (WHERE c.type = 'conversation.opened')::int AS conversations
       FROM days d LEFT JOIN counted c ON c.day = d.day
      GROUP BY d.day ORDER BY d.day`,
    [customerId, tz, from, to],
  )) as CustomerDay[];
}

/** The customer's website (`cta.*`) events from `from` to `to` (dates of `tz`, inclusive) per surface and type, most first. */
export async function customerCtaCounts(
  m: EntityManager,
  customerId: string,
  tz: string,
  from: string,
  to: string,
): Promise<{ surface: string | null; type: string; n: number }[]> {
  return (await m.query(
    `SELECT surface, type, count(*)::int AS n FROM analytics_events
      WHERE customer_id = $1 AND type LIKE 'cta.%'
        AND occurred_at >= ($3::date::timestamp AT TIME ZONE $2) AND occurred_at < (($4::date + 1)::timestamp AT TIME ZONE $2)
      GROUP BY surface, type ORDER BY n DESC, surface NULLS LAST, type LIMIT 500`,
    [customerId, tz, from, to],
  )) as { surface: string | null; type: string; n: number }[];
}
