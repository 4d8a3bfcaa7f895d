// The analytics event stream (docs/analytics.md). Events are written with the
// fact they record: a statement that records a fact adds `eventInsert(...)`
// as one more CTE (one statement, no extra round trip), and code that
// records several facts in a transaction calls `insertEvents` in it. Either
// way a fact delivered twice is one event (`ON CONFLICT` on the tenant's
// dedupe key), and an event that cannot be written rolls its fact back.
import type pg from 'pg';
import QueryStream from 'pg-query-stream';
import { type EntityManager } from 'typeorm';
import { type ProductEventType } from '../lib/analyticsEvents';
import { hasOffset } from '../lib/analyticsExport';

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
  ev AS (
    SELECT type, step, message_id, enrollment_id, lead_id, occurred_at, seq, properties FROM analytics_events
     WHERE campaign_id = $1 AND type IN ('message.sent', 'message.uncertain', 'message.failed', 'message.replied', 'message.bounced',
                                         'lead.unsubscribed', 'message.opened', 'message.clicked')),
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

/**
 * The campaign's counted facts per step (null for those of no step:
 * unsubscribes, a reply to nothing sent), kind and day of `tz`: the funnel is
 * their sum and the daily series their days, from one pass over the events
 * (the campaign page asks for both every few seconds while it sends).
 */
export async function campaignFactCountsByDay(
  m: EntityManager,
  campaignId: string,
  tz: string,
): Promise<{ step: number | null; kind: CampaignFactKind; day: string; n: number }[]> {
  return (await m.query(
    `WITH ${CAMPAIGN_FACTS}
     SELECT step, kind, to_char((occurred_at AT TIME ZONE $2)::date, 'YYYY-MM-DD') AS day, count(*)::int AS n
       FROM facts GROUP BY 1, 2, 3 ORDER BY 3, 1 NULLS LAST, 2`,
    [campaignId, tz],
  )) as { step: number | null; kind: CampaignFactKind; day: string; n: number }[];
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

// ---- Reading the stream out: exports and incremental pulls (docs/analytics.md, "Export").

/** Which events an export selects: one customer's, by `occurred_at` in [from, to), read in `timeZone`. */
export interface EventExportFilter {
  customerId: string;
  /** A date or date-time; without an offset it is a wall-clock time of `timeZone`. */
  from: string;
  to: string;
  /** An IANA zone: where wall-clock bounds are read and times are written. */
  timeZone: string;
  types?: string[];
  surface?: string;
  campaignId?: string;
  /** The highest `seq` included: an export that runs in chunks reads the stream as it was when it was asked for. */
  maxSeq?: string;
}

/** Where a chunked export resumes: after this event in (`occurred_at`, `seq`) order. */
export interface ExportKey {
  at: string;
  seq: string;
}

type Push = (value: unknown) => string;

/** ISO 8601 text of a timestamptz in the zone, with the zone's offset then (`2024-03-10T01:30:00.000-05:00`). */
function isoInZone(column: string, tz: string): string {
  const local = `(${column} AT TIME ZONE ${tz})`;
  const offset = `(${local} - (${column} AT TIME ZONE 'UTC'))`;
  return `to_char(${local}, 'YYYY-MM-DD"T"HH24:MI:SS.MS') || CASE WHEN ${offset} < interval '0' THEN '-' || to_char(-${offset}, 'HH24:MI') ELSE '+' || to_char(${offset}, 'HH24:MI') END`;
}

function exportWhere(f: EventExportFilter, push: Push, tz: string, after?: ExportKey): string {
  // A bound with an offset is an instant; one without is a wall-clock time of the zone.
  const bound = (v: string) => (hasOffset(v) ? `${push(v)}::timestamptz` : `(${push(v)}::timestamp AT TIME ZONE ${tz})`);
  const where = [`e.customer_id = ${push(f.customerId)}`, `e.occurred_at >= ${bound(f.from)}`, `e.occurred_at < ${bound(f.to)}`];
  if (f.types?.length) where.push(`e.type = ANY(${push(f.types)}::text[])`);
  if (f.surface !== undefined) where.push(`e.surface = ${push(f.surface)}`);
  if (f.campaignId !== undefined) where.push(`e.campaign_id = ${push(f.campaignId)}`);
  if (f.maxSeq !== undefined) where.push(`e.seq <= ${push(f.maxSeq)}::bigint`);
  if (after) where.push(`(e.occurred_at, e.seq) > (${push(after.at)}::timestamptz, ${push(after.seq)}::bigint)`);
  return where.join(' AND ');
}

/**
 * The export's statement: one row per event in `occurred_at`, `seq` order,
 * already formatted (times as text in the zone), so the application only
 * frames it. CSV rows are the columns of EXPORT_COLUMNS in order; an NDJSON
 * row is one JSON text. `withKey` adds the resume key as two last columns.
 */
export function eventExportStatement(
  f: EventExportFilter,
  format: 'csv' | 'ndjson',
  opts: { after?: ExportKey; limit?: number; withKey?: boolean } = {},
): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  const push: Push = (v) => {
    values.push(v);
    return `$${values.length}`;
  };
  const tz = `${push(f.timeZone)}::text`;
  const where = exportWhere(f, push, tz, opts.after);
  const occurred = isoInZone('e.occurred_at', tz);
  const received = isoInZone('e.received_at', tz);
  const columns =
    format === 'csv'
      ? `e.seq::text, e.id, e.type, ${occurred}, ${received}, e.customer_id, e.campaign_id, e.step, e.enrollment_id, e.message_id, e.lead_id,
         e.conversation_id, e.automation_id, e.surface, e.properties::text`
      : `json_build_object('seq', e.seq, 'id', e.id, 'type', e.type, 'occurred_at', ${occurred}, 'received_at', ${received}, 'customer_id', e.customer_id,
           'campaign_id', e.campaign_id, 'step', e.step, 'enrollment_id', e.enrollment_id, 'message_id', e.message_id, 'lead_id', e.lead_id,
           'conversation_id', e.conversation_id, 'automation_id', e.automation_id, 'surface', e.surface, 'properties', e.properties)::text`;
  const key = opts.withKey ? `, to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), e.seq::text` : '';
  const limit = opts.limit ? ` LIMIT ${push(opts.limit)}` : '';
  return { text: `SELECT ${columns}${key} FROM analytics_events e WHERE ${where} ORDER BY e.occurred_at, e.seq${limit}`, values };
}

/** The pg client under the caller's transaction: a cursor must run on the connection that holds the tenant context. */
function rawClient(m: EntityManager): pg.PoolClient {
  const client = (m.queryRunner as unknown as { databaseConnection?: pg.PoolClient } | undefined)?.databaseConnection;
  if (!client || !m.queryRunner?.isTransactionActive) throw new Error('a streamed read needs the tenant transaction');
  return client;
}

/** How many events the filter selects, counting no further than `cap` (so a huge range costs no more than `cap` rows). */
export async function countEventsUpTo(m: EntityManager, f: EventExportFilter, cap: number): Promise<number> {
  const values: unknown[] = [];
  const push: Push = (v) => {
    values.push(v);
    return `$${values.length}`;
  };
  const where = exportWhere(f, push, `${push(f.timeZone)}::text`);
  const [row] = (await m.query(`SELECT count(*)::int AS n FROM (SELECT 1 FROM analytics_events e WHERE ${where} LIMIT ${push(cap)}) x`, values)) as {
    n: number;
  }[];
  return row?.n ?? 0;
}

/** The stream's latest `seq` in the tenant (null when it has none). */
export async function lastEventSeq(m: EntityManager): Promise<string | null> {
  const [row] = (await m.query('SELECT max(seq)::text AS seq FROM analytics_events')) as { seq: string | null }[];
  return row?.seq ?? null;
}

/**
 * The export as a cursor on the caller's transaction: rows (arrays) arrive
 * in batches as the reader takes them, so memory stays flat whatever the
 * range. The transaction's statement deadline is lifted to `timeoutMs` for
 * the cursor's life, on the server and in the client.
 */
export async function streamEventExport(m: EntityManager, f: EventExportFilter, format: 'csv' | 'ndjson', timeoutMs: number): Promise<QueryStream> {
  const client = rawClient(m);
  await m.query("SELECT set_config('statement_timeout', $1, true)", [String(timeoutMs)]);
  const { text, values } = eventExportStatement(f, format);
  const stream = new QueryStream(text, values, { batchSize: 2000, rowMode: 'array' });
  // pg's client-side read deadline applies to a cursor as a whole: the stream's own replaces the pool's.
  (stream as unknown as { query_timeout: number }).query_timeout = timeoutMs + 1000;
  return client.query(stream);
}

/** One chunk of a chunked export, after `after`, as arrays ending with the resume key (at, seq). */
export async function readEventExportChunk(
  m: EntityManager,
  f: EventExportFilter,
  format: 'csv' | 'ndjson',
  after: ExportKey | undefined,
  limit: number,
): Promise<unknown[][]> {
  const { text, values } = eventExportStatement(f, format, { after, limit, withKey: true });
  const result = await rawClient(m).query({ text, values, rowMode: 'array' });
  return result.rows as unknown[][];
}

export interface EventRow {
  seq: string;
  id: string;
  type: string;
  occurred_at: Date;
  received_at: Date;
  customer_id: string | null;
  campaign_id: string | null;
  step: number | null;
  enrollment_id: string | null;
  message_id: string | null;
  lead_id: string | null;
  conversation_id: string | null;
  automation_id: string | null;
  surface: string | null;
  properties: Record<string, unknown>;
}

/**
 * A customer's events after `after` in `seq` order, for incremental pulls,
 * up to a watermark that no transaction still open can fall below
 * (docs/analytics.md, "Incremental pulls"). A `seq` is taken when a row is
 * inserted, so a transaction that took a lower one may commit after a higher
 * one is visible; a puller that went on from the higher one would skip it.
 * An event's `received_at` is the clock at its insert, after its
 * transaction began, so every event a transaction still open may commit is
 * received no earlier than the oldest open writing transaction's start.
 * Events received before that start (and `marginSeconds` before now, for
 * two inserts' clocks read a moment apart) are settled and served.
 * Every writer of events is the app role, whose sessions this role sees.
 */
export async function listEventsAfter(
  m: EntityManager,
  customerId: string,
  opts: { after: string; limit: number; marginSeconds: number; campaignId?: string },
): Promise<EventRow[]> {
  const values: unknown[] = [customerId, opts.after, opts.limit, opts.marginSeconds];
  const campaign = opts.campaignId === undefined ? '' : ` AND campaign_id = $${values.push(opts.campaignId)}`;
  return (await m.query(
    `WITH mark AS (
       SELECT least(clock_timestamp(),
                    (SELECT min(a.xact_start) FROM pg_stat_activity a
                      WHERE a.backend_xid IS NOT NULL AND a.datname = current_database() AND a.pid <> pg_backend_pid()))
              - make_interval(secs => $4) AS settled)
     SELECT seq::text, id, type, occurred_at, received_at, customer_id, campaign_id, step, enrollment_id, message_id, lead_id, conversation_id,
            automation_id, surface, properties
       FROM analytics_events
      WHERE customer_id = $1 AND seq > $2::bigint AND received_at < (SELECT settled FROM mark)${campaign}
      ORDER BY seq LIMIT $3`,
    values,
  )) as EventRow[];
}

/**
 * The tenant's events of `types` after `after`, in `seq` order, up to the
 * same watermark as listEventsAfter (events no transaction still open can
 * add below): the trigger dispatcher's read (docs/automations.md,
 * "Triggers"). It scans at most `limit` settled events of any type and
 * answers those of `types` with `high`, the last seq scanned, where the
 * reader's cursor may move to even when none of them was of `types`.
 */
export async function listTenantEventsAfter(
  m: EntityManager,
  opts: { after: string; limit: number; marginSeconds: number; types: readonly string[] },
): Promise<{ events: EventRow[]; high: string | null }> {
  const [row] = (await m.query(
    `WITH mark AS (
       SELECT least(clock_timestamp(),
                    (SELECT min(a.xact_start) FROM pg_stat_activity a
                      WHERE a.backend_xid IS NOT NULL AND a.datname = current_database() AND a.pid <> pg_backend_pid()))
              - make_interval(secs => $3) AS settled),
     scan AS (
       SELECT seq, type FROM analytics_events
        WHERE seq > $1::bigint AND received_at < (SELECT settled FROM mark)
        ORDER BY seq LIMIT $2)
     SELECT (SELECT max(seq) FROM scan)::text AS high,
            coalesce((SELECT json_agg(r ORDER BY r.n) FROM (
              SELECT e.seq AS n, e.seq::text AS seq, e.id, e.type, e.occurred_at, e.received_at, e.customer_id, e.campaign_id, e.step, e.enrollment_id,
                     e.message_id, e.lead_id, e.conversation_id, e.automation_id, e.surface, e.properties
                FROM analytics_events e JOIN scan s ON s.seq = e.seq
               WHERE s.type = ANY($4::text[])) r), '[]'::json) AS events`,
    [opts.after, opts.limit, opts.marginSeconds, opts.types],
  )) as { high: string | null; events: (EventRow & { n?: unknown })[] }[];
  const events = row!.events.map(({ n: _n, ...e }) => ({ ...e, occurred_at: new Date(e.occurred_at), received_at: new Date(e.received_at) }));
  return { events, high: row!.high };
}

/**
 * The first event of `type` about the lead that happened at or after `since`,
 * leaving out the events in `exclude` (a run's `wait_for` steps take each
 * event once: a second wait for the same type does not take the first one's).
 */
export async function leadEventSince(
  m: EntityManager,
  leadId: string,
  type: string,
  since: Date,
  exclude: string[] = [],
): Promise<{ id: string; type: string; occurred_at: Date; lead_id: string } | undefined> {
  const [row] = (await m.query(
    `SELECT id, type, occurred_at, lead_id FROM analytics_events
      WHERE lead_id = $1 AND type = $2 AND occurred_at >= $3 AND NOT (id = ANY($4::text[])) ORDER BY occurred_at, seq LIMIT 1`,
    [leadId, type, since, exclude],
  )) as { id: string; type: string; occurred_at: Date; lead_id: string }[];
  return row;
}
