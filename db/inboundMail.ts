// Inbound mail into conversations (docs/architecture.md, "Conversations"):
// each mail read from an inbox's mailbox is threaded, stored once and, when
// it answers an enrollment, ends that enrollment exactly as a provider's
// reply or bounce event does. Runs in the caller's tenant transaction, so
// the reader's checkpoint commits with the mail it covers.
//
// A mail costs two or three statements: one finds its thread, its lead and
// the enrollment it answers; one makes the lead's conversation when the mail
// threads to none; one stores it. The store is an INSERT … ON CONFLICT DO
// NOTHING on the tenant's unique Message-ID, and everything else the mail
// changes (unread count, reopening, attachments, lead, enrollment) hangs on
// that insert's RETURNING: a second transaction storing the same mail waits
// on the unique index, inserts nothing, and so changes nothing.
import { createHash } from 'node:crypto';
import { type EntityManager } from 'typeorm';
import { CONVERSATION_UPSERT_RETURNING, conversationEvent, eventInsert } from './analyticsEvents';
import { newId } from './ids';
import { readInboxSender } from './inboxes';
import { lastStepSentBefore } from './messages';
import { MAX_ATTACHMENT_BYTES, type InboundMail } from '../lib/inboundMail';
import { conversationOfAddress, normalizeMessageId, ownMessageIdsIn } from '../lib/messageIds';

/** An enrollment a stored mail ended; its row is already written, the workflow is told by the caller. */
export interface EnrollmentStop {
  enrollmentId: string;
  campaignId: string;
  leadId: string;
  outcome: 'replied' | 'bounced';
}

/** A mail the database refused even after cleaning: left out so the mail after it is still stored. */
export interface SkippedMail {
  uid: number;
  /** A plain reason, for the inbox's page. */
  reason: string;
}

export interface StoreInboundResult {
  /** Mail stored now (a mail stored before is not counted again). */
  stored: number;
  /** Mail that threads to nothing and comes from no known lead, and mail stored before. */
  ignored: number;
  /** Enrollments the batch ended, for their workflows' signals. */
  stops: EnrollmentStop[];
  /** Mail that could not be stored (its statements were rolled back alone); absent when none. */
  skipped?: SkippedMail[];
}

/** Characters of an inbound text body kept (the webhook's limit too). */
export const MAX_TEXT_CHARS = 100_000;
/** Characters of an inbound HTML body kept; the rest of a longer one is dropped. */
export const MAX_HTML_CHARS = 512 * 1024;
const MAX_SUBJECT_CHARS = 1000;

/** Where a mail lands, as the threading statement finds it. */
interface Placement {
  conversation_id: string | null;
  lead_id: string;
  inbox_id: string;
  /** Origin of the message the mail threads to (null: threaded by plus address or by sender). */
  origin: string | null;
  enrollment_id: string | null;
  campaign_id: string | null;
  enrollment_status: string | null;
  auto_reply_stops: boolean | null;
  /** The earliest date a mail may carry and still stop the enrollment (null: no enrollment). */
  stops_from: Date | null;
  /** The outbound message the mail threads to by its Message-ID (a bounce's returned message); null otherwise. */
  outbound_id: string | null;
}

/**
 * Hours a mail that names one of our sent messages may be dated before that
 * send and still stop its enrollment: it cannot have been written earlier,
 * so such a Date is the sender's clock (or time zone) being wrong.
 */
const SEND_CLOCK_SKEW_HOURS = 24;

/**
 * The mail's thread: the first candidate (In-Reply-To, References newest
 * first, our Message-IDs quoted in the body, then plus addresses) that names
 * a message or conversation of the inbox's customer, kept only when its lead
 * is the sender (a bounce report comes from the mailer daemon, so it skips
 * that rule); else the sender's own conversation with this inbox, when the
 * sender is a lead of the customer. With it, the enrollment the mail
 * answers: the threaded message's, else the lead's latest unfinished one
 * that sends from the conversation's inbox — and the earliest date a mail
 * may carry to stop it (see storeOne).
 */
const PLACE = `
  WITH cand AS (
    SELECT m.conversation_id, m.origin, m.enrollment_id, m.sent_at, CASE WHEN m.direction = 'outbound' THEN m.id END AS outbound_id, c.ord
      FROM unnest($1::text[]) WITH ORDINALITY AS c(message_id, ord)
      JOIN messages m ON m.message_id = c.message_id
     WHERE m.customer_id = $3 AND m.conversation_id IS NOT NULL
    UNION ALL
    SELECT v.id, NULL::text, NULL::text, NULL::timestamptz, NULL::text, 100000 + p.ord
      FROM unnest($2::text[]) WITH ORDINALITY AS p(conversation_id, ord)
      JOIN conversations v ON v.id = p.conversation_id
     WHERE v.customer_id = $3),
  hit AS (SELECT * FROM cand ORDER BY ord LIMIT 1),
  threaded AS (
    SELECT h.conversation_id, v.lead_id, v.inbox_id, h.origin, h.enrollment_id, h.sent_at, h.outbound_id
      FROM hit h JOIN conversations v ON v.id = h.conversation_id JOIN leads l ON l.id = v.lead_id
     WHERE $6::boolean OR l.email = $4),
  placed AS (
    SELECT * FROM threaded
    UNION ALL
    SELECT NULL::text, l.id, $5::text, NULL::text, NULL::text, NULL::timestamptz, NULL::text
      FROM leads l
     WHERE l.customer_id = $3 AND l.email = $4 AND NOT EXISTS (SELECT 1 FROM threaded))
  SELECT p.conversation_id, p.lead_id, p.inbox_id, p.origin, e.id AS enrollment_id, e.campaign_id, e.status AS enrollment_status, k.auto_reply_stops,
         CASE WHEN p.enrollment_id IS NOT NULL AND p.sent_at IS NOT NULL THEN p.sent_at - interval '${SEND_CLOCK_SKEW_HOURS} hours'
              ELSE date_trunc('second', e.created_at) END AS stops_from, p.outbound_id
    FROM placed p
    LEFT JOIN enrollments e ON e.id = coalesce(p.enrollment_id, (
      SELECT x.id FROM enrollments x
       WHERE x.lead_id = p.lead_id AND x.inbox_id = p.inbox_id AND x.status IN ('pending', 'active', 'paused')
       ORDER BY x.created_at DESC, x.id DESC LIMIT 1))
    LEFT JOIN campaigns k ON k.id = e.campaign_id`;

/** The lead's conversation with the inbox, found or made (no unread yet: that waits for the mail's own insert); a new one writes its `conversation.opened`. */
const ENSURE_CONVERSATION = `
  WITH conv AS (
    INSERT INTO conversations (tenant_id, id, customer_id, inbox_id, lead_id, subject)
    VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, $4, $5)
    ON CONFLICT (tenant_id, inbox_id, lead_id) DO UPDATE SET updated_at = conversations.updated_at
    RETURNING ${CONVERSATION_UPSERT_RETURNING}),
  opened AS (${conversationEvent('conv', 'conversation.opened', 'created_at', 'conv.inserted')})
  SELECT id FROM conv`;

/**
 * Stores the mail and, only when it was not stored before, what it changes:
 * the conversation (one unread, reopened, last message time moved forward),
 * its attachments, and — when `$16` (the mail stops its enrollment) — the
 * lead's status and the enrollment's end, as the webhook's
 * recordReplyOrBounce writes them — and their events (docs/analytics.md):
 * the mail's `message.replied` when it counts as a reply (`$24`), or for a bounce (`$17`) the returned
 * outbound message's (`$23`) `message.bounced`, and `conversation.opened`
 * when it reopens a closed conversation.
 */
const STORE = `
  WITH ins AS (
    INSERT INTO messages (tenant_id, id, customer_id, campaign_id, enrollment_id, lead_id, inbox_id, direction, origin, status, message_id,
                          subject, body, body_html, from_email, auto_reply, sent_at, conversation_id)
    VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, $4, $5, $6, 'inbound', $7, 'received', $8, $9, $10, $11, $12, $13, $14, $15)
    ON CONFLICT (tenant_id, message_id) DO NOTHING
    RETURNING id, customer_id, campaign_id, enrollment_id, lead_id, conversation_id, created_at, sent_at),
  conv AS (
    UPDATE conversations c
       SET unread_count = c.unread_count + 1, status = 'open', snoozed_until = NULL,
           last_message_at = greatest(c.last_message_at, $14::timestamptz), updated_at = now()
      FROM (SELECT id, status FROM conversations WHERE id = $15) was
     WHERE c.id = was.id AND EXISTS (SELECT 1 FROM ins)
    RETURNING c.id, c.customer_id, c.lead_id, c.updated_at, was.status AS was),
  reopened AS (${conversationEvent('conv', 'conversation.opened', 'updated_at', "conv.was = 'closed'")}),
  replied AS (${eventInsert(
    'ins',
    {
      type: "'message.replied'",
      occurredAt: 'least(coalesce(ins.sent_at, ins.created_at), ins.created_at)',
      customerId: 'ins.customer_id',
      campaignId: 'ins.campaign_id',
      step: lastStepSentBefore('ins.enrollment_id', 'ins.created_at'),
      enrollmentId: 'ins.enrollment_id',
      messageId: 'ins.id',
      leadId: 'ins.lead_id',
      conversationId: 'ins.conversation_id',
      dedupeKey: "'message.replied:' || ins.id",
    },
    '$24::boolean',
  )}),
  bounced AS (${eventInsert("(SELECT o.* FROM messages o WHERE o.id = $23 AND $17::text = 'bounced' AND EXISTS (SELECT 1 FROM ins)) b", {
    type: "'message.bounced'",
    customerId: 'b.customer_id',
    campaignId: 'b.campaign_id',
    step: `coalesce(${lastStepSentBefore('b.enrollment_id', 'now()')}, b.step)`,
    enrollmentId: 'b.enrollment_id',
    messageId: 'b.id',
    leadId: 'b.lead_id',
    conversationId: 'b.conversation_id',
    dedupeKey: "'message.bounced:' || b.id",
  })}),
  att AS (
    INSERT INTO message_attachments (tenant_id, id, message_id, customer_id, filename, content_type, size, content)
    SELECT current_setting('app.tenant_id')::uuid, a.id, ins.id, $2, a.filename, a.content_type, a.size, a.content
      FROM ins, unnest($18::text[], $19::text[], $20::text[], $21::int[], $22::bytea[]) AS a(id, filename, content_type, size, content)),
  lead AS (
    UPDATE leads SET status = $17::text, updated_at = now()
     WHERE id = $5 AND $16::boolean AND (status = 'active' OR $17::text = 'bounced') AND EXISTS (SELECT 1 FROM ins)),
  stop AS (
    UPDATE enrollments SET status = $17::text, next_send_at = NULL, updated_at = now()
     WHERE id = $4 AND $16::boolean AND status IN ('pending', 'active', 'paused') AND EXISTS (SELECT 1 FROM ins)
     RETURNING id, campaign_id)
  SELECT (SELECT count(*)::int FROM ins) AS inserted, (SELECT count(*)::int FROM stop) AS stopped`;

const clip = (s: string, n: number) => (s.length > n ? s.slice(0, n) : s);

/**
 * Characters of a Message-ID stored as it is. A longer one (a forged or
 * broken header) would not fit the unique index's btree row, so it is stored,
 * and looked up, under a digest of itself instead.
 */
export const MAX_MESSAGE_ID_CHARS = 500;

/**
 * The key a mail without a Message-ID is stored under: the inbox and a digest
 * of what it says (Date, sender, subject, text). Not its place in the
 * mailbox: a UID means nothing under another UIDVALIDITY, so a UID key would
 * store the mail again after every UIDVALIDITY change (a resync reads it all
 * again). The `@mailbox.invalid` domain marks it as no real Message-ID, so a
 * reply never names it in In-Reply-To or References.
 */
export function contentKey(inboxId: string, mail: Pick<InboundMail, 'date' | 'from' | 'subject' | 'text'>): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([mail.date ?? '', mail.from?.address ?? '', mail.subject, mail.text]))
    .digest('hex');
  return `<imap.${digest}.${inboxId}@mailbox.invalid>`;
}

/** The key a Message-ID (or an In-Reply-To or References entry) is stored and looked up under. */
export function storedMessageId(value: string): string {
  const id = normalizeMessageId(value);
  if (id.length <= MAX_MESSAGE_ID_CHARS) return id;
  return `<long.${createHash('sha256').update(id).digest('hex')}@mailbox.invalid>`;
}

/** The candidates a mail threads by, in order: In-Reply-To, References newest first, our Message-IDs quoted in its body. */
function threadCandidates(mail: InboundMail): string[] {
  if (mail.bounce?.failed && mail.bounce.originalMessageId) return [storedMessageId(mail.bounce.originalMessageId)];
  const ids = [...(mail.inReplyTo ? [mail.inReplyTo] : []), ...[...mail.references].reverse(), ...ownMessageIdsIn(`${mail.text}\n${mail.html ?? ''}`)].map(
    storedMessageId,
  );
  return [...new Set(ids)];
}

function plusConversations(mail: InboundMail): string[] {
  if (mail.bounce?.failed && mail.bounce.originalMessageId) return [];
  const ids = [...mail.to, ...mail.cc].map((a) => conversationOfAddress(a.address)).filter((c): c is string => c !== undefined);
  return [...new Set(ids)];
}

/** The mail's date for the thread's order: never later than now, so a forged Date cannot pin a thread to the top. */
function receivedAt(mail: InboundMail): Date {
  const now = new Date();
  const date = mail.date ? new Date(mail.date) : now;
  return Number.isNaN(date.getTime()) || date > now ? now : date;
}

/**
 * Threads and stores a batch of mail read from the inbox's mailbox, in the
 * caller's transaction inside its tenant (withTenant: the tenant's context
 * scopes every statement).
 */
export async function storeInboundMail(
  m: EntityManager,
  inboxId: string,
  mails: InboundMail[],
  /** Called after each mail (the reader's heartbeat). */
  onEach?: () => void,
): Promise<StoreInboundResult> {
  const result: StoreInboundResult = { stored: 0, ignored: 0, stops: [] };
  const inbox = await readInboxSender(m, inboxId);
  if (!inbox) return { ...result, ignored: mails.length };
  for (const mail of mails) {
    // Each mail under its own savepoint: one the database still refuses is
    // rolled back alone and reported, and the batch (and the checkpoint past
    // it) commits; retrying it would refuse it again forever.
    await m.query('SAVEPOINT inbound_mail');
    let outcome: Awaited<ReturnType<typeof storeOne>>;
    try {
      outcome = await storeOne(m, inbox.customer_id, inboxId, mail);
      await m.query('RELEASE SAVEPOINT inbound_mail');
    } catch (err) {
      await m.query('ROLLBACK TO SAVEPOINT inbound_mail');
      const reason = refusal(err);
      // Anything else (a deadlock, a lost connection) may pass: the batch is retried.
      if (reason === undefined) throw err;
      (result.skipped ??= []).push({ uid: mail.uid, reason });
      onEach?.();
      continue;
    }
    if (outcome === undefined) result.ignored += 1;
    else {
      result.stored += 1;
      if (outcome.stop) result.stops.push(outcome.stop);
    }
    onEach?.();
  }
  return result;
}

/**
 * Why the database refused a mail for good, in words for the inbox's page
 * (never its internals): its data (SQLSTATE class 22), a constraint (23) or a
 * limit such as an index row's size (54). Undefined for any other fault.
 */
function refusal(err: unknown): string | undefined {
  const code = String((err as { code?: unknown }).code ?? '');
  if (code === '22021' || code === '22P05') return 'it holds characters that cannot be stored';
  if (code.startsWith('54')) return 'one of its headers is too long to store';
  if (code.startsWith('22') || code.startsWith('23')) return 'the database refused its content';
  return undefined;
}

async function storeOne(m: EntityManager, customerId: string, inboxId: string, mail: InboundMail): Promise<{ stop?: EnrollmentStop } | undefined> {
  // Only a failed delivery report that names the message it returns skips the sender rule.
  const bounce = mail.bounce?.failed === true && Boolean(mail.bounce.originalMessageId);
  const sender = mail.from?.address.trim().toLowerCase() ?? '';
  const [place] = (await m.query(PLACE, [threadCandidates(mail), plusConversations(mail), customerId, sender, inboxId, bounce])) as Placement[];
  if (!place) return undefined;

  // A subject is one line (an encoded word may decode to line breaks): a reply's "Re: …" is built from it.
  const subject = clip(mail.subject.replace(/[\r\n]+/g, ' '), MAX_SUBJECT_CHARS);
  const conversationId =
    place.conversation_id ??
    ((await m.query(ENSURE_CONVERSATION, [newId('conv'), customerId, place.inbox_id, place.lead_id, subject])) as { id: string }[])[0]!.id;

  const key = mail.messageId?.trim() ? storedMessageId(mail.messageId) : contentKey(inboxId, mail);
  const outcome: EnrollmentStop['outcome'] = bounce ? 'bounced' : 'replied';
  const at = receivedAt(mail);
  // Old mail (the first read and every resync read the whole mailbox) is
  // kept in the thread but stops nothing: only mail dated from the
  // enrollment's start (to the second, a Date header's precision) — or,
  // when it names a sent step, from that send — does.
  const current = place.stops_from === null || at >= new Date(place.stops_from);
  // An auto-reply (out of office) is kept in the thread but leaves the sequence running, unless its campaign says otherwise.
  const stops = place.enrollment_id !== null && current && (bounce || !mail.autoSubmitted || place.auto_reply_stops === true);
  // A reply to count (docs/analytics.md): current mail that is neither a delivery report nor an auto-reply its campaign ignores.
  const countsAsReply = !bounce && current && (!mail.autoSubmitted || place.auto_reply_stops === true);
  const origin = place.origin ?? (place.enrollment_id ? 'sequence' : 'manual');
  // Ids in ascending order, so the attachments list in the order the mail gives them (db/attachments.ts orders by id).
  const attachmentIds = mail.attachments.map(() => newId('att')).sort();
  const attachments = mail.attachments.map((a, i) => ({
    id: attachmentIds[i]!,
    filename: a.filename,
    contentType: a.contentType,
    size: a.size,
    content: a.content && a.content.length <= MAX_ATTACHMENT_BYTES ? a.content : null,
  }));
  const [row] = (await m.query(STORE, [
    newId('msg'),
    customerId,
    place.campaign_id,
    place.enrollment_id,
    place.lead_id,
    place.inbox_id,
    origin,
    key,
    subject,
    clip(mail.text, MAX_TEXT_CHARS),
    mail.html === null ? null : clip(mail.html, MAX_HTML_CHARS),
    mail.from?.address ?? null,
    mail.autoSubmitted,
    at,
    conversationId,
    stops,
    outcome,
    attachments.map((a) => a.id),
    attachments.map((a) => a.filename),
    attachments.map((a) => a.contentType),
    attachments.map((a) => a.size),
    attachments.map((a) => a.content),
    bounce ? place.outbound_id : null,
    countsAsReply,
  ])) as { inserted: number; stopped: number }[];
  if (!row || row.inserted === 0) return undefined;
  if (row.stopped > 0 && place.enrollment_id && place.campaign_id) {
    return { stop: { enrollmentId: place.enrollment_id, campaignId: place.campaign_id, leadId: place.lead_id, outcome } };
  }
  return {};
}
