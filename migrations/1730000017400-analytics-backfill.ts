// The analytics stream's backfill: the facts recorded before the stream
// existed get their events, with the same dedupe keys, times and references
// as the live writes (docs/analytics.md, "Written with the fact"), so old
// campaigns read from the stream like new ones and a fact recorded live
// while this runs is not doubled (ON CONFLICT on the tenant's dedupe key).
// What the tables did not keep is taken from the nearest thing they did:
// a bounce is the last message sent in the bounced enrollment (or to the
// bounced lead), and a stop without its own time takes the row's
// `updated_at`. Running it again writes nothing new.
import { type MigrationInterface, type QueryRunner } from 'typeorm';
import { acrossTenants } from './lib/rls';

/** Epoch milliseconds of a timestamp, truncated like a JavaScript Date's. */
const ms = (t: string) => `floor(extract(epoch FROM ${t}) * 1000)::bigint`;

const COLUMNS = 'tenant_id, type, occurred_at, customer_id, campaign_id, step, enrollment_id, message_id, lead_id, conversation_id, properties, dedupe_key';

/** One event per outbound message row that `where` selects. */
const messageEvent = (type: string, occurredAt: string, key: string, where: string, properties = "'{}'::jsonb") => `
  INSERT INTO analytics_events (${COLUMNS})
  SELECT m.tenant_id, '${type}', ${occurredAt}, m.customer_id, m.campaign_id, m.step, m.enrollment_id, m.id, m.lead_id, m.conversation_id, ${properties}, ${key}
    FROM messages m
   WHERE m.direction = 'outbound' AND ${where}
  ON CONFLICT (tenant_id, dedupe_key) DO NOTHING`;

/** Every statement of the backfill, in order; each is idempotent. */
export const BACKFILL: string[] = [
  // A step that could not be rendered was never queued: its row is born as the render error.
  messageEvent('message.queued', 'm.created_at', "'message.queued:' || m.id", "m.status <> 'render_error'"),
  messageEvent('message.sent', 'coalesce(m.sent_at, m.updated_at)', "'message.sent:' || m.id", "m.status = 'accepted'"),
  messageEvent(
    'message.opened',
    'coalesce(m.opened_at, m.sent_at, m.updated_at)',
    "'message.opened:' || m.id || ':backfill'",
    "m.status = 'accepted' AND m.opens > 0",
    `jsonb_build_object('source', 'provider')`,
  ),
  messageEvent('message.uncertain', 'coalesce(m.sent_at, m.updated_at)', "'message.uncertain:' || m.id", "m.status = 'uncertain'"),
  messageEvent('message.failed', 'm.updated_at', `'message.failed:' || m.id || ':' || ${ms('m.updated_at')}`, "m.status IN ('failed', 'render_error')"),
  // A bounce: the last message sent in each bounced enrollment, and for a
  // bounced lead with no bounced enrollment, the last message sent to it.
  `WITH bounced AS (
     SELECT DISTINCT ON (e.tenant_id, e.id) m.*, e.updated_at AS bounced_at
       FROM enrollments e JOIN messages m ON m.tenant_id = e.tenant_id AND m.enrollment_id = e.id
      WHERE e.status = 'bounced' AND m.direction = 'outbound' AND m.sent_at IS NOT NULL
      ORDER BY e.tenant_id, e.id, m.sent_at DESC, m.step DESC
   ), lead_bounced AS (
     SELECT DISTINCT ON (l.tenant_id, l.id) m.*, l.updated_at AS bounced_at
       FROM leads l JOIN messages m ON m.tenant_id = l.tenant_id AND m.lead_id = l.id
      WHERE l.status = 'bounced' AND m.direction = 'outbound' AND m.sent_at IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM enrollments e WHERE e.tenant_id = l.tenant_id AND e.lead_id = l.id AND e.status = 'bounced')
      ORDER BY l.tenant_id, l.id, m.sent_at DESC, m.step DESC
   )
   INSERT INTO analytics_events (${COLUMNS})
   SELECT b.tenant_id, 'message.bounced', b.bounced_at, b.customer_id, b.campaign_id, b.step, b.enrollment_id, b.id, b.lead_id, b.conversation_id, '{}', 'message.bounced:' || b.id
     FROM (SELECT * FROM bounced UNION ALL SELECT * FROM lead_bounced) b
   ON CONFLICT (tenant_id, dedupe_key) DO NOTHING`,
  // A reply counts against the last step sent in its enrollment before it,
  // at the mail's own date (never later than it was stored). Not replies, as
  // the live reader decides: an auto-reply (unless its campaign stops on
  // them) and a failed delivery report — the inbound mail of a bounced
  // enrollment, since a reply would have ended the enrollment as replied.
  `INSERT INTO analytics_events (${COLUMNS})
   SELECT r.tenant_id, 'message.replied', least(coalesce(r.sent_at, r.created_at), r.created_at), r.customer_id, r.campaign_id,
          (SELECT o.step FROM messages o
            WHERE o.tenant_id = r.tenant_id AND o.enrollment_id = r.enrollment_id AND o.direction = 'outbound' AND o.step IS NOT NULL AND o.status IN ('accepted', 'uncertain')
              AND coalesce(o.sent_at, o.created_at) <= r.created_at
            ORDER BY o.step DESC LIMIT 1),
          r.enrollment_id, r.id, r.lead_id, r.conversation_id, '{}', 'message.replied:' || r.id
     FROM messages r
     LEFT JOIN enrollments e ON e.tenant_id = r.tenant_id AND e.id = r.enrollment_id
     LEFT JOIN campaigns k ON k.tenant_id = r.tenant_id AND k.id = r.campaign_id
    WHERE r.direction = 'inbound'
      AND NOT (r.auto_reply AND NOT coalesce(k.auto_reply_stops, false))
      AND e.status IS DISTINCT FROM 'bounced'
   ON CONFLICT (tenant_id, dedupe_key) DO NOTHING`,
  `INSERT INTO analytics_events (${COLUMNS})
   SELECT l.tenant_id, 'lead.created', l.created_at, l.customer_id, NULL, NULL, NULL, NULL, l.id, NULL, '{}', 'lead.created:' || l.id
     FROM leads l
   ON CONFLICT (tenant_id, dedupe_key) DO NOTHING`,
  `INSERT INTO analytics_events (${COLUMNS})
   SELECT e.tenant_id, 'lead.unsubscribed', e.updated_at, e.customer_id, e.campaign_id, NULL, e.id, NULL, e.lead_id, NULL, '{}', 'lead.unsubscribed:' || e.id
     FROM enrollments e
    WHERE e.status = 'unsubscribed'
   ON CONFLICT (tenant_id, dedupe_key) DO NOTHING`,
  `INSERT INTO analytics_events (${COLUMNS})
   SELECT l.tenant_id, 'lead.unsubscribed', l.updated_at, l.customer_id, NULL, NULL, NULL, NULL, l.id, NULL, '{}', 'lead.unsubscribed:' || l.id
     FROM leads l
    WHERE l.status = 'unsubscribed'
      AND NOT EXISTS (SELECT 1 FROM enrollments e WHERE e.tenant_id = l.tenant_id AND e.lead_id = l.id AND e.status = 'unsubscribed')
   ON CONFLICT (tenant_id, dedupe_key) DO NOTHING`,
  `INSERT INTO analytics_events (${COLUMNS})
   SELECT c.tenant_id, 'conversation.opened', c.created_at, c.customer_id, NULL, NULL, NULL, NULL, c.lead_id, c.id, '{}',
          'conversation.opened:' || c.id || ':' || ${ms('c.created_at')}
     FROM conversations c
   ON CONFLICT (tenant_id, dedupe_key) DO NOTHING`,
  `INSERT INTO analytics_events (${COLUMNS})
   SELECT c.tenant_id, 'conversation.closed', c.updated_at, c.customer_id, NULL, NULL, NULL, NULL, c.lead_id, c.id, '{}',
          'conversation.closed:' || c.id || ':' || ${ms('c.updated_at')}
     FROM conversations c
    WHERE c.status = 'closed'
   ON CONFLICT (tenant_id, dedupe_key) DO NOTHING`,
  `INSERT INTO analytics_events (${COLUMNS})
   SELECT c.tenant_id, 'campaign.completed', c.updated_at, c.customer_id, c.id, NULL, NULL, NULL, NULL, NULL, '{}',
          'campaign.completed:' || c.id || ':' || ${ms('c.updated_at')}
     FROM campaigns c
    WHERE c.status = 'completed'
   ON CONFLICT (tenant_id, dedupe_key) DO NOTHING`,
];

export class AnalyticsBackfill1730000017400 implements MigrationInterface {
  name = 'AnalyticsBackfill1730000017400';

  async up(q: QueryRunner): Promise<void> {
    await acrossTenants(q, ['analytics_events', 'messages', 'enrollments', 'leads', 'conversations', 'campaigns'], async () => {
      for (const statement of BACKFILL) await q.query(statement);
    });
  }

  // The events stay: they are the record of facts that happened, and the
  // stream's own migration removes the table.
  async down(): Promise<void> {}
}
