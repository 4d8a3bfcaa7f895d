// Message rows: each outbound step of an enrollment, recorded before the
// provider is called and keyed by (tenant, enrollment, step) so a send
// happens once, and each inbound reply. The send path, the provider events
// and the Outbox read and write them here; the send's acceptance, which also
// moves the enrollment, is in db/sends.ts. A message joins the conversation
// of its (inbox, lead) in the statement that records it: the conversation is
// found or made by an upsert in the same statement, so the send path keeps
// its round trips.
import { type EntityManager } from 'typeorm';
import { CONVERSATION_UPSERT_RETURNING, conversationEvent, epochMs, eventInsert, MESSAGE_REF_COLUMNS, messageRefs } from './analyticsEvents';
import { newId } from './ids';
import { keysetPage, type ListParams, type Page } from './pagination';

/**
 * An enrollment's outbound messages counted by outcome, for a query over
 * `enrollments e`: `sent` is accepted ones only; a send whose outcome is
 * unknown counts apart (`uncertain`) until it is resolved. One scan of the
 * enrollment's messages for both.
 */
export const SEND_COUNTS_JOIN = `CROSS JOIN LATERAL (
  SELECT count(*) FILTER (WHERE m.status = 'accepted')::int AS sent_accepted, count(*) FILTER (WHERE m.status = 'uncertain')::int AS sent_uncertain
    FROM messages m WHERE m.enrollment_id = e.id AND m.direction = 'outbound') sc`;

/** One outbound step's message as the send records it. */
export interface OutboundMessage {
  id: string;
  customerId: string;
  campaignId: string;
  enrollmentId: string;
  leadId: string;
  inboxId: string;
  step: number;
  /** The Message-ID header the send puts on the mail. */
  messageId: string;
  scheduledAt: Date;
}

/** What a send attempt reads of its message row. */
export interface SendingMessageRow {
  id: string;
  status: string;
  message_id: string;
  unsubscribe_token: string | null;
}

const outboundParams = (msg: OutboundMessage) => [
  msg.id,
  msg.customerId,
  msg.campaignId,
  msg.enrollmentId,
  msg.leadId,
  msg.inboxId,
  msg.step,
  msg.messageId,
  msg.scheduledAt,
];

/**
 * The conversation of the message's (inbox, lead), found or made, as a CTE
 * named `conv`, with a new conversation's id in parameter `param` and its
 * subject `subject`. `touch` is what a conflict sets: a message that goes
 * out moves the conversation's last message time. A conversation the upsert
 * made (`xmax = 0`: the row is this statement's insert, not an update)
 * writes its `conversation.opened`.
 */
const joinConversation = (param: number, subject: string, touch: string) => `WITH conv AS (
       INSERT INTO conversations (tenant_id, id, customer_id, inbox_id, lead_id, subject)
       VALUES (current_setting('app.tenant_id')::uuid, $${param}, $2, $6, $5, ${subject})
       ON CONFLICT (tenant_id, inbox_id, lead_id) DO UPDATE SET ${touch}
       RETURNING ${CONVERSATION_UPSERT_RETURNING}),
     conv_opened AS (${conversationEvent('conv', 'conversation.opened', 'created_at', 'conv.inserted')})`;

/**
 * An event about the outbound message rows of `from` (a RETURNING of
 * messages with MESSAGE_REF_COLUMNS and the columns `at` names), keyed
 * `{type}:{message}` or, with `keyMs`, `{type}:{message}:{ms of at}`.
 */
const messageEvent = (from: string, type: string, at: string, keyMs = false, where?: string) =>
  eventInsert(
    from,
    {
      type: `'${type}'`,
      occurredAt: `${from}.${at}`,
      ...messageRefs(from),
      dedupeKey: `'${type}:' || ${from}.id${keyMs ? ` || ':' || ${epochMs(`${from}.${at}`)}` : ''}`,
    },
    where,
  );

/** Records a step that could not be rendered (nothing was sent); a later attempt's row of the same step takes the new error. */
export async function recordRenderError(m: EntityManager, msg: OutboundMessage, error: string): Promise<void> {
  // A `message.failed` when the step's status changes: a new row, or a
  // failed send's row that now cannot be rendered (not a render error again).
  await m.query(
    `${joinConversation(11, "''", 'updated_at = conversations.updated_at')},
     prev AS (SELECT status FROM messages WHERE enrollment_id = $4 AND step = $7 AND direction = 'outbound'),
     rec AS (
       INSERT INTO messages (tenant_id, id, customer_id, campaign_id, enrollment_id, lead_id, inbox_id, direction, step, status, message_id, scheduled_at, error, conversation_id)
       VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, $4, $5, $6, 'outbound', $7, 'render_error', $8, $9, $10, (SELECT id FROM conv))
       ON CONFLICT (tenant_id, enrollment_id, step) WHERE direction = 'outbound' DO UPDATE SET status = 'render_error', error = EXCLUDED.error, updated_at = now()
         WHERE messages.status IN ('render_error', 'failed')
       RETURNING ${MESSAGE_REF_COLUMNS}, updated_at)
     ${messageEvent('rec', 'message.failed', 'updated_at', true, "NOT EXISTS (SELECT 1 FROM prev WHERE prev.status = 'render_error')")}`,
    [...outboundParams(msg), error, newId('conv')],
  );
}

/**
 * Records the step as sending, before the provider is called. The new row
 * comes back (undefined when an earlier attempt left one: lockOutboundMessage
 * reads that).
 */
export async function insertSendingMessage(
  m: EntityManager,
  msg: OutboundMessage,
  content: { subject: string; body: string; unsubscribeToken: string },
): Promise<SendingMessageRow | undefined> {
  // Only a new row is queued: the conflict returns nothing, so a retry's
  // statement writes no event.
  const [row] = (await m.query(
    `${joinConversation(13, '$10', "last_message_at = now(), updated_at = now(), subject = CASE WHEN conversations.subject = '' THEN $10 ELSE conversations.subject END")},
     rec AS (
       INSERT INTO messages (tenant_id, id, customer_id, campaign_id, enrollment_id, lead_id, inbox_id, direction, step, status, message_id, scheduled_at, subject, body, unsubscribe_token, conversation_id)
       VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, $4, $5, $6, 'outbound', $7, 'sending', $8, $9, $10, $11, $12, (SELECT id FROM conv))
       ON CONFLICT (tenant_id, enrollment_id, step) WHERE direction = 'outbound' DO NOTHING
       RETURNING ${MESSAGE_REF_COLUMNS}, status, message_id, unsubscribe_token, created_at),
     ev AS (${messageEvent('rec', 'message.queued', 'created_at')})
     SELECT id, status, message_id, unsubscribe_token FROM rec`,
    [...outboundParams(msg), content.subject, content.body, content.unsubscribeToken, newId('conv')],
  )) as SendingMessageRow[];
  return row;
}

/** The step's outbound message an earlier attempt left, locked until the transaction ends. */
export async function lockOutboundMessage(m: EntityManager, enrollmentId: string, step: number): Promise<SendingMessageRow | undefined> {
  const [row] = (await m.query(
    "SELECT id, status, message_id, unsubscribe_token FROM messages WHERE enrollment_id = $1 AND step = $2 AND direction = 'outbound' FOR UPDATE",
    [enrollmentId, step],
  )) as SendingMessageRow[];
  return row;
}

/** Marks a message whose send died midway as uncertain (SMTP cannot say whether it was accepted). */
export async function markMessageUncertain(m: EntityManager, id: string, error: string, sentAt: Date): Promise<void> {
  await m.query(
    `WITH rec AS (
       UPDATE messages SET status = 'uncertain', sent_at = $3, error = $2, updated_at = now() WHERE id = $1 AND status = 'sending'
       RETURNING ${MESSAGE_REF_COLUMNS}, sent_at)
     ${messageEvent('rec', 'message.uncertain', 'sent_at')}`,
    [id, error, sentAt],
  );
}

/** Puts a message that failed or could not be rendered back to sending, with the content rendered now. */
export async function markMessageSending(m: EntityManager, id: string, subject: string, body: string): Promise<void> {
  await m.query("UPDATE messages SET status = 'sending', subject = $2, body = $3, error = NULL, updated_at = now() WHERE id = $1", [id, subject, body]);
}

/** Marks a message the provider refused: nothing was accepted, so the next attempt may send. */
export async function markMessageFailed(m: EntityManager, id: string, error: string): Promise<void> {
  // Only a send still in flight fails: a later attempt may have settled the
  // record (uncertain) while this one hung, and that verdict stands.
  await m.query(
    `WITH rec AS (
       UPDATE messages SET status = 'failed', error = $2, updated_at = now() WHERE id = $1 AND status = 'sending'
       RETURNING ${MESSAGE_REF_COLUMNS}, updated_at)
     ${messageEvent('rec', 'message.failed', 'updated_at', true)}`,
    [id, error],
  );
}

/** The steps of the enrollment already sent (accepted, or of unknown outcome). */
export async function listSentSteps(m: EntityManager, enrollmentId: string): Promise<number[]> {
  const sent = (await m.query("SELECT step FROM messages WHERE enrollment_id = $1 AND direction = 'outbound' AND status IN ('accepted', 'uncertain')", [
    enrollmentId,
  ])) as { step: number }[];
  return sent.map((s) => s.step);
}

/** The outbound message a provider event names, with its enrollment's status. */
export interface EventMessageRow {
  id: string;
  customer_id: string;
  campaign_id: string;
  enrollment_id: string;
  lead_id: string;
  inbox_id: string | null;
  enrollment_status: string;
}

/** The outbound message with this Message-ID header, of this enrollment and step (undefined when there is none in the tenant). */
export async function findEventMessage(m: EntityManager, messageId: string, enrollmentId: string, step: number): Promise<EventMessageRow | undefined> {
  const [msg] = (await m.query(
    `SELECT m.id, m.customer_id, m.campaign_id, m.enrollment_id, m.lead_id, m.inbox_id, e.status AS enrollment_status
       FROM messages m JOIN enrollments e ON e.id = m.enrollment_id
      WHERE m.message_id = $1 AND m.enrollment_id = $2 AND m.step = $3 AND m.direction = 'outbound'`,
    [messageId, enrollmentId, step],
  )) as EventMessageRow[];
  return msg;
}

/** Counts an open of the message the provider reported in its event `sourceEventId` (one `message.opened` per event). */
export async function countMessageOpen(m: EntityManager, id: string, sourceEventId: string): Promise<void> {
  await m.query(
    `WITH rec AS (
       UPDATE messages SET opens = opens + 1, opened_at = coalesce(opened_at, now()), updated_at = now() WHERE id = $1
       RETURNING ${MESSAGE_REF_COLUMNS}, updated_at)
     ${eventInsert('rec', {
       type: "'message.opened'",
       occurredAt: 'rec.updated_at',
       ...messageRefs('rec'),
       properties: `jsonb_build_object('source', 'provider')`,
       dedupeKey: "'message.opened:' || rec.id || ':' || $2",
     })}`,
    [id, sourceEventId],
  );
}

/** The address of the lead a message with this unsubscribe token went to. */
export async function findUnsubscribeAddress(m: EntityManager, token: string): Promise<string | undefined> {
  const [msg] = (await m.query('SELECT l.email FROM messages m JOIN leads l ON l.id = m.lead_id WHERE m.unsubscribe_token = $1', [token])) as {
    email: string;
  }[];
  return msg?.email;
}

/** A row of the Outbox. */
export interface OutboxRow {
  id: string;
  /** Null for a message written by hand (origin `manual`) or by an automation. */
  campaign_id: string | null;
  campaign_name: string | null;
  step: number | null;
  origin: string;
  status: string;
  subject: string | null;
  body: string | null;
  error: string | null;
  sent_at: Date | null;
  scheduled_at: Date | null;
  message_id: string;
  to_email: string;
  from_email: string | null;
}

/** A page of the customer's outbound messages — a campaign's steps and those written by hand — newest first, searched by subject and address. */
export function listOutboxPage(m: EntityManager, customerId: string, list: ListParams) {
  return keysetPage<OutboxRow>(m, list, {
    select: `SELECT m.id, m.campaign_id, c.name AS campaign_name, m.step, m.origin, m.status, m.subject, m.body, m.error, m.sent_at, m.scheduled_at, m.message_id, l.email AS to_email, i.from_email
               FROM messages m JOIN leads l ON l.id = m.lead_id LEFT JOIN campaigns c ON c.id = m.campaign_id LEFT JOIN inboxes i ON i.id = m.inbox_id`,
    key: 'm.id',
    order: 'desc',
    where: [
      ['m.customer_id = ?', customerId],
      ["m.direction = 'outbound'", null],
    ],
    search: ['m.subject', 'l.email'],
    idOf: (r) => String(r.id),
  });
}

/** The Message-ID header of one of the customer's outbound messages. */
export async function findOutboundMessageId(m: EntityManager, id: string, customerId: string): Promise<string | undefined> {
  const [row] = (await m.query("SELECT message_id FROM messages WHERE id = $1 AND customer_id = $2 AND direction = 'outbound'", [id, customerId])) as {
    message_id: string;
  }[];
  return row?.message_id;
}

export interface ReplyRow {
  id: string;
  lead_id: string;
  subject: string;
  body: string;
  created_at: Date;
  email: string;
  first_name: string;
  last_name: string;
}

/** One page of the campaign's replies (inbound messages), newest first, with who sent each. */
export async function listCampaignRepliesPage(m: EntityManager, campaignId: string, list: ListParams): Promise<Page<ReplyRow>> {
  return keysetPage<ReplyRow>(m, list, {
    select: 'SELECT m.id, m.lead_id, m.subject, m.body, m.created_at, l.email, l.first_name, l.last_name FROM messages m JOIN leads l ON l.id = m.lead_id',
    key: 'm.id',
    order: 'desc',
    where: [
      ['m.campaign_id = ?', campaignId],
      ["m.direction = 'inbound'", null],
    ],
    search: ['m.subject', 'm.body'],
    idOf: (r) => r.id,
  });
}

/** Every message of one enrollment, both ways, oldest first. */
export async function listEnrollmentMessages(m: EntityManager, enrollmentId: string): Promise<Record<string, unknown>[]> {
  return (await m.query(
    'SELECT id, direction, step, status, subject, body, error, scheduled_at, sent_at, opened_at, opens, created_at FROM messages WHERE enrollment_id = $1 ORDER BY created_at, id',
    [enrollmentId],
  )) as Record<string, unknown>[];
}

/** A message of a conversation as its thread shows it. */
export interface ThreadMessageRow {
  id: string;
  direction: 'outbound' | 'inbound';
  origin: string;
  status: string;
  campaign_id: string | null;
  step: number | null;
  subject: string;
  body: string;
  error: string | null;
  sent_at: Date | null;
  opened_at: Date | null;
  created_at: Date;
  from_email: string | null;
  /** An inbound message's HTML as received: untrusted. */
  body_html: string | null;
  auto_reply: boolean;
}

/** One page of a conversation's messages, both ways, newest first. */
export function listConversationMessagesPage(m: EntityManager, conversationId: string, list: ListParams): Promise<Page<ThreadMessageRow>> {
  return keysetPage<ThreadMessageRow>(m, list, {
    select: `SELECT m.id, m.direction, m.origin, m.status, m.campaign_id, m.step, m.subject, m.body, m.error, m.sent_at, m.opened_at, m.created_at,
              m.from_email, m.body_html, m.auto_reply
         FROM messages m`,
    key: 'm.id',
    order: 'desc',
    where: [['m.conversation_id = ?', conversationId]],
    idOf: (r) => r.id,
  });
}

/** A message of a lead's timeline: what happened and when (its send or arrival, else its record). */
export interface LeadMessageEventRow {
  id: string;
  conversation_id: string | null;
  campaign_id: string | null;
  direction: 'outbound' | 'inbound';
  origin: string;
  status: string;
  step: number | null;
  subject: string;
  auto_reply: boolean;
  at: Date;
}

/**
 * The lead's messages both ways, oldest first; a lead's history is short, and
 * the newest `limit` are kept. They are found through the lead's
 * conversations and enrollments, whose indexes lead to them (messages have
 * no index on the lead).
 */
export async function listLeadMessageEvents(m: EntityManager, leadId: string, limit = 500): Promise<LeadMessageEventRow[]> {
  return (await m.query(
    `SELECT * FROM (
       SELECT m.id, m.conversation_id, m.campaign_id, m.direction, m.origin, m.status, m.step, m.subject, m.auto_reply, COALESCE(m.sent_at, m.created_at) AS at
         FROM messages m
        WHERE m.lead_id = $1
          AND (m.conversation_id IN (SELECT c.id FROM conversations c WHERE c.lead_id = $1)
               OR (m.direction = 'outbound' AND m.enrollment_id IN (SELECT e.id FROM enrollments e WHERE e.lead_id = $1)))
        ORDER BY m.id DESC LIMIT $2) x
      ORDER BY x.at, x.id`,
    [leadId, limit],
  )) as LeadMessageEventRow[];
}

/** A message written by hand (or by an automation), as the API records it before its workflow sends it. */
export interface ManualMessage {
  id: string;
  customerId: string;
  leadId: string;
  inboxId: string;
  origin: 'manual' | 'automation';
  /** The Message-ID header (lib/messageIds.ts manualMessageId). */
  messageId: string;
  subject: string;
  body: string;
}

/** What recording a manual message answers. */
export interface QueuedMessageRow {
  id: string;
  conversation_id: string;
  status: string;
  queued_until: Date | null;
}

/**
 * Records a manual message as queued, in the conversation of its (inbox,
 * lead), found or made in the same statement (a new one takes the message's
 * subject).
 */
export async function insertQueuedMessage(m: EntityManager, msg: ManualMessage): Promise<QueuedMessageRow> {
  const [row] = (await m.query(
    `${joinConversation(9, '$3', "last_message_at = now(), updated_at = now(), subject = CASE WHEN conversations.subject = '' THEN $3 ELSE conversations.subject END")},
     rec AS (
       INSERT INTO messages (tenant_id, id, customer_id, lead_id, inbox_id, direction, origin, status, message_id, subject, body, conversation_id)
       VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $5, $6, 'outbound', $8, 'queued', $7, $3, $4, (SELECT id FROM conv))
       RETURNING ${MESSAGE_REF_COLUMNS}, status, queued_until, created_at),
     ev AS (${messageEvent('rec', 'message.queued', 'created_at')})
     SELECT id, conversation_id, status, queued_until FROM rec`,
    [msg.id, msg.customerId, msg.subject, msg.body, msg.leadId, msg.inboxId, msg.messageId, msg.origin, newId('conv')],
  )) as QueuedMessageRow[];
  return row!;
}

/** A manual message as its send reads it: the row, its lead's address and whether that address is suppressed. */
export interface ManualSendRow {
  id: string;
  status: string;
  message_id: string;
  customer_id: string;
  inbox_id: string;
  conversation_id: string;
  subject: string;
  body: string;
  created_at: Date;
  email: string;
  suppressed: boolean;
}

// A lead that hard-bounced counts as suppressed: its address takes no more mail.
const MANUAL_SEND = `SELECT m.id, m.status, m.message_id, m.customer_id, m.inbox_id, m.conversation_id, m.subject, m.body, m.created_at, l.email,
            s.suppressed OR l.status = 'bounced' AS suppressed
       FROM messages m JOIN leads l ON l.id = m.lead_id
      CROSS JOIN LATERAL (SELECT EXISTS (SELECT 1 FROM suppressions x WHERE x.email = lower(l.email)) AS suppressed) s
      WHERE m.id = $1 AND m.direction = 'outbound' AND m.origin <> 'sequence'`;

/** The manual message, its lead's address and suppression, in one statement (undefined when it is gone). */
export async function readManualSend(m: EntityManager, id: string): Promise<ManualSendRow | undefined> {
  const [row] = (await m.query(MANUAL_SEND, [id])) as ManualSendRow[];
  return row;
}

/** readManualSend, with the message row locked until the transaction ends (the send's record-before-send reads it so). */
export async function lockManualSend(m: EntityManager, id: string): Promise<ManualSendRow | undefined> {
  const [row] = (await m.query(`${MANUAL_SEND} FOR UPDATE OF m`, [id])) as ManualSendRow[];
  return row;
}

/** Says until when a queued message waits (null: until the tenant's sends are released). */
export async function markMessageQueued(m: EntityManager, id: string, until: Date | null): Promise<void> {
  await m.query("UPDATE messages SET queued_until = $2, updated_at = now() WHERE id = $1 AND status = 'queued'", [id, until]);
}

/** Records a queued (or earlier failed) manual message as sending, before the provider is called. */
export async function markManualSending(m: EntityManager, id: string): Promise<void> {
  await m.query(
    "UPDATE messages SET status = 'sending', queued_until = NULL, error = NULL, updated_at = now() WHERE id = $1 AND status IN ('queued', 'failed')",
    [id],
  );
}

/** Puts a manual message whose send failed for now back to queued, with the reason: the next attempt sends it (its slot is kept). */
export async function markManualRetrying(m: EntityManager, id: string, error: string): Promise<void> {
  await m.query("UPDATE messages SET status = 'queued', error = $2, updated_at = now() WHERE id = $1 AND status = 'sending'", [id, error]);
}

/** Ends a manual message that will not be sent (its address was suppressed meanwhile, its inbox is gone). */
export async function failManualMessage(m: EntityManager, id: string, error: string): Promise<void> {
  // A message already failed keeps its one `message.failed` (the row before the update says so).
  await m.query(
    `WITH rec AS (
       UPDATE messages x SET status = 'failed', queued_until = NULL, error = $2, updated_at = now()
         FROM (SELECT id, status FROM messages WHERE id = $1) was
        WHERE x.id = was.id AND x.status IN ('queued', 'failed')
       RETURNING x.id, x.customer_id, x.campaign_id, x.step, x.enrollment_id, x.lead_id, x.conversation_id, x.updated_at, was.status AS was)
     ${messageEvent('rec', 'message.failed', 'updated_at', true, "rec.was <> 'failed'")}`,
    [id, error],
  );
}

/** Records the provider's acceptance of a manual message. */
export async function recordMessageAccepted(m: EntityManager, sent: { messageRowId: string; providerMessageId: string; sentAt: Date }): Promise<void> {
  await m.query(
    `WITH rec AS (
       UPDATE messages SET status = 'accepted', provider_message_id = $2, sent_at = $3, error = NULL, updated_at = now() WHERE id = $1
       RETURNING ${MESSAGE_REF_COLUMNS}, sent_at)
     ${messageEvent('rec', 'message.sent', 'sent_at')}`,
    [sent.messageRowId, sent.providerMessageId, sent.sentAt],
  );
}

/** How many Message-IDs a reply's References carries at most: the thread's first and its latest. */
export const REFERENCES_LIMIT = 20;

/**
 * The Message-IDs a reply threads under: `inReplyTo` is the latest inbound
 * message's before the reply was written (else the latest message's), and
 * `references` the thread's first message and its latest ones, oldest first,
 * at most REFERENCES_LIMIT. Only mail that reached the other side counts
 * (received, accepted or possibly accepted), and only real Message-IDs —
 * not the keys of inbound mail that had none (`@mailbox.invalid`) nor a
 * provider's reply event stored without one (`reply:{event}`).
 */
export async function threadHeaders(
  m: EntityManager,
  conversationId: string,
  reply: { id: string; createdAt: Date },
): Promise<{ inReplyTo: string | null; references: string[] }> {
  const where = `conversation_id = $1 AND id <> $2 AND created_at <= $3
     AND (direction = 'inbound' OR status IN ('accepted', 'uncertain')) AND message_id LIKE '<%@%>' AND message_id NOT LIKE '%@mailbox.invalid>'`;
  const rows = (await m.query(
    `(SELECT message_id, direction, created_at, id FROM messages WHERE ${where} ORDER BY created_at, id LIMIT 1)
     UNION
     (SELECT message_id, direction, created_at, id FROM messages WHERE ${where} AND direction = 'inbound' ORDER BY created_at DESC, id DESC LIMIT 1)
     UNION
     (SELECT message_id, direction, created_at, id FROM messages WHERE ${where} ORDER BY created_at DESC, id DESC LIMIT ${REFERENCES_LIMIT - 1})
     ORDER BY created_at, id`,
    [conversationId, reply.id, reply.createdAt],
  )) as { message_id: string; direction: string }[];
  const latestInbound = rows.filter((r) => r.direction === 'inbound').pop();
  const inReplyTo = (latestInbound ?? rows[rows.length - 1])?.message_id ?? null;
  const ids = [...new Set(rows.map((r) => r.message_id))];
  const references = ids.length > REFERENCES_LIMIT ? [ids[0]!, ...ids.slice(-(REFERENCES_LIMIT - 1))] : ids;
  return { inReplyTo, references };
}

/** A message of the customer as GET /api/messages/{id} shows it. */
export interface CustomerMessageRow {
  id: string;
  conversation_id: string | null;
  lead_id: string;
  inbox_id: string | null;
  direction: 'outbound' | 'inbound';
  origin: 'sequence' | 'manual' | 'automation';
  status: string;
  queued_until: Date | null;
  subject: string;
  body: string;
  error: string | null;
  created_at: Date;
  sent_at: Date | null;
}

/** One of the customer's messages, either way. */
export async function findCustomerMessage(m: EntityManager, id: string, customerId: string): Promise<CustomerMessageRow | undefined> {
  const [row] = (await m.query(
    `SELECT id, conversation_id, lead_id, inbox_id, direction, origin, status, queued_until, subject, body, error, created_at, sent_at
       FROM messages WHERE id = $1 AND customer_id = $2`,
    [id, customerId],
  )) as CustomerMessageRow[];
  return row;
}

/** The tenant's messages that wait for a slot or for sends (their workflows are woken when sends are released). */
export async function listQueuedMessages(m: EntityManager): Promise<{ id: string }[]> {
  return (await m.query("SELECT id FROM messages WHERE status = 'queued' ORDER BY id")) as { id: string }[];
}

/** A condition: the conversation `conversation` (an SQL expression) has a message of campaign `param` (a bound parameter). */
export const conversationHasCampaign = (conversation: string, param: string) =>
  `EXISTS (SELECT 1 FROM messages x WHERE x.conversation_id = ${conversation} AND x.campaign_id = ${param})`;

/**
 * The step a reply or bounce counts against (docs/analytics.md): the last
 * step sent (accepted, or of unknown outcome) in enrollment `enrollment`
 * at or before `at` — both SQL expressions; null without an enrollment.
 */
export const lastStepSentBefore = (enrollment: string, at: string) => `(SELECT o.step FROM messages o
    WHERE o.enrollment_id = ${enrollment} AND o.direction = 'outbound' AND o.step IS NOT NULL AND o.status IN ('accepted', 'uncertain')
      AND coalesce(o.sent_at, o.created_at) <= ${at}
    ORDER BY o.step DESC LIMIT 1)`;
/** An outbound message as a tracking fetch records it: its references and when it was sent. */
export interface TrackedMessageRow {
  id: string;
  customer_id: string;
  campaign_id: string | null;
  step: number | null;
  enrollment_id: string | null;
  lead_id: string;
  conversation_id: string | null;
  sent_at: Date | null;
}

/** The tenant's outbound message with this row id (a tracking token names it), or undefined. */
export async function findTrackedMessage(m: EntityManager, id: string): Promise<TrackedMessageRow | undefined> {
  const [row] = (await m.query(
    `SELECT id, customer_id, campaign_id, step, enrollment_id, lead_id, conversation_id, sent_at
       FROM messages WHERE id = $1 AND direction = 'outbound'`,
    [id],
  )) as TrackedMessageRow[];
  return row;
}
