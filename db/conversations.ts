// Conversations: one thread between one lead and one of the tenant's inboxes
// (docs/architecture.md, "Conversations"). A message joins its conversation
// where it is recorded (db/messages.ts, db/emailEvents.ts); here are the
// conversation list, one conversation, and what a person changes on it.
// A snooze ends by itself: a snoozed conversation whose time has passed reads
// as open, without a job that wakes it.
import { type EntityManager } from 'typeorm';
import { ApiError } from '../lib/errors';
import { conversationEvent } from './analyticsEvents';
import { conversationHasCampaign } from './messages';
import { decodeSortedCursor, encodeCursor, likePattern, type ListParams, type Page } from './pagination';

export type ConversationStatus = 'open' | 'closed' | 'snoozed';

export interface ConversationRow {
  id: string;
  customer_id: string;
  inbox_id: string;
  inbox_email: string | null;
  lead_id: string;
  lead_email: string;
  lead_first_name: string;
  lead_last_name: string;
  status: ConversationStatus;
  snoozed_until: Date | null;
  assignee_member_id: string | null;
  unread_count: number;
  last_message_at: Date;
  subject: string;
  campaign_ids: string[];
  created_at: Date;
  updated_at: Date;
}

/** The status as people see it: a snooze whose time has come is open again. */
const STATUS = "CASE WHEN c.status = 'snoozed' AND c.snoozed_until <= now() THEN 'open' ELSE c.status END";

const SELECT = `
  SELECT c.id, c.customer_id, c.inbox_id, i.from_email AS inbox_email, c.lead_id, l.email AS lead_email, l.first_name AS lead_first_name,
         l.last_name AS lead_last_name, ${STATUS} AS status, CASE WHEN ${STATUS} = 'snoozed' THEN c.snoozed_until END AS snoozed_until,
         c.assignee_member_id, c.unread_count, c.last_message_at, c.last_message_at::text AS last_at, c.subject,
         cm.campaign_ids, c.created_at, c.updated_at
    FROM conversations c JOIN leads l ON l.id = c.lead_id LEFT JOIN inboxes i ON i.id = c.inbox_id
   CROSS JOIN LATERAL (SELECT ARRAY(SELECT DISTINCT x.campaign_id FROM messages x WHERE x.conversation_id = c.id AND x.campaign_id IS NOT NULL ORDER BY x.campaign_id) AS campaign_ids) cm`;

export interface ConversationFilters {
  status?: ConversationStatus;
  unread?: boolean;
  inboxId?: string;
  campaignId?: string;
  /** A member id, or `none` for conversations nobody is assigned to. */
  assignee?: string;
}

/**
 * One page of the customer's conversations, latest message first — or, with
 * `unreadFirst`, those with unread messages before the others, each group
 * latest first; `q` searches the lead's address and name and the subject.
 * The cursor carries the last row's time as the database wrote it
 * (microseconds), and with `unreadFirst` its unread flag too, so no row is
 * skipped or repeated between pages.
 */
export async function listConversationsPage(
  m: EntityManager,
  customerId: string,
  filters: ConversationFilters,
  list: ListParams,
  unreadFirst = false,
): Promise<Page<ConversationRow>> {
  const params: unknown[] = [];
  const bind = (value: unknown) => `$${params.push(value)}`;
  const where = [`c.customer_id = ${bind(customerId)}`];
  if (filters.status) where.push(`${STATUS} = ${bind(filters.status)}`);
  if (filters.unread !== undefined) where.push(filters.unread ? 'c.unread_count > 0' : 'c.unread_count = 0');
  if (filters.inboxId) where.push(`c.inbox_id = ${bind(filters.inboxId)}`);
  if (filters.campaignId) where.push(conversationHasCampaign('c.id', bind(filters.campaignId)));
  if (filters.assignee === 'none') where.push('c.assignee_member_id IS NULL');
  else if (filters.assignee) where.push(`c.assignee_member_id = ${bind(filters.assignee)}`);
  if (list.q) {
    const n = bind(likePattern(list.q));
    where.push(
      `(l.email ILIKE ${n} ESCAPE '\\' OR l.first_name ILIKE ${n} ESCAPE '\\' OR l.last_name ILIKE ${n} ESCAPE '\\' OR c.subject ILIKE ${n} ESCAPE '\\')`,
    );
  }
  const after = decodeSortedCursor(list.cursor);
  // The unread-first order's cursor is `flag|time`; the latest-first one's, the time alone.
  const [flag, time] = unreadFirst && after ? (/^([01])\|(.*)$/.exec(after.value)?.slice(1) ?? ['', '']) : ['', after?.value ?? ''];
  // The cursor's value is a time: an edited one is refused, not cast into an error.
  if (after && (Number.isNaN(Date.parse(time!)) || (unreadFirst && !flag))) {
    throw new ApiError(400, 'invalid_cursor', 'the cursor is not one this list gave out');
  }
  const unreadKey = '(c.unread_count > 0)::int';
  if (after && unreadFirst)
    where.push(`(${unreadKey}, c.last_message_at, c.id) < (${bind(Number(flag))}::int, ${bind(time)}::timestamptz, ${bind(after.after)})`);
  else if (after) where.push(`(c.last_message_at, c.id) < (${bind(time)}::timestamptz, ${bind(after.after)})`);
  const order = `${unreadFirst ? `${unreadKey} DESC, ` : ''}c.last_message_at DESC, c.id DESC`;
  // The page's keys first, from the list index (conversations_page_idx,
  // conversations_unread_page_idx), then each row of the page with its
  // campaigns: the campaigns are looked up for the page's rows only, not
  // for every conversation the order passes over. The page is materialized,
  // so the planner joins the rest to its rows rather than the other way round
  // (beside a million leads it would otherwise hash the leads); the leads
  // join the page only when a search reads them.
  const rows = (await m.query(
    `WITH page AS MATERIALIZED (
       SELECT c.id FROM conversations c ${list.q ? 'JOIN leads l ON l.id = c.lead_id' : ''} WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT ${list.limit + 1})
     ${SELECT} JOIN page p ON p.id = c.id ORDER BY ${order}`,
    params,
  )) as (ConversationRow & {
    last_at: string;
  })[];
  const data = rows.slice(0, list.limit);
  const last = data[data.length - 1];
  const cursorValue = (r: ConversationRow & { last_at: string }) => (unreadFirst ? `${r.unread_count > 0 ? 1 : 0}|${r.last_at}` : r.last_at);
  return {
    data: data.map(({ last_at: _, ...row }) => row),
    nextCursor: rows.length > list.limit && last ? encodeCursor(last.id, cursorValue(last)) : null,
  };
}

/** Every conversation of one lead (one per inbox it was written from), latest message first. */
export async function listLeadConversations(m: EntityManager, leadId: string): Promise<ConversationRow[]> {
  const rows = (await m.query(`${SELECT} WHERE c.lead_id = $1 ORDER BY c.last_message_at DESC, c.id DESC`, [leadId])) as (ConversationRow & {
    last_at?: string;
  })[];
  return rows.map(({ last_at: _, ...row }) => row);
}

/** One of the customer's conversations. */
export async function findConversation(m: EntityManager, id: string, customerId: string): Promise<ConversationRow | undefined> {
  const [row] = (await m.query(`${SELECT} WHERE c.id = $1 AND c.customer_id = $2`, [id, customerId])) as (ConversationRow & { last_at?: string })[];
  if (row) delete row.last_at;
  return row;
}

export interface ConversationChanges {
  status?: ConversationStatus;
  snoozedUntil?: Date | null;
  assigneeMemberId?: string | null;
  read?: boolean;
}

/**
 * Applies what a person changed on the conversation (a status other than
 * snoozed clears the snooze time). Closing it writes `conversation.closed`
 * and taking a closed one up again `conversation.opened`, in the same
 * statement, from the status the row had before (docs/analytics.md).
 */
export async function updateConversation(m: EntityManager, id: string, changes: ConversationChanges): Promise<void> {
  const params: unknown[] = [id];
  const bind = (value: unknown) => `$${params.push(value)}`;
  const set = ['updated_at = now()'];
  if (changes.status) {
    set.push(`status = ${bind(changes.status)}`);
    set.push(changes.status === 'snoozed' ? `snoozed_until = ${bind(changes.snoozedUntil)}` : 'snoozed_until = NULL');
  }
  if (changes.assigneeMemberId !== undefined) set.push(`assignee_member_id = ${bind(changes.assigneeMemberId)}`);
  if (changes.read === true) set.push('unread_count = 0');
  await m.query(
    `WITH was AS (SELECT id, status FROM conversations WHERE id = $1 FOR UPDATE),
     upd AS (UPDATE conversations c SET ${set.join(', ')} FROM was WHERE c.id = was.id
             RETURNING c.id, c.customer_id, c.lead_id, c.status, c.updated_at, was.status AS was),
     opened AS (${conversationEvent('upd', 'conversation.opened', 'updated_at', "upd.was = 'closed' AND upd.status <> 'closed'")}),
     closed AS (${conversationEvent('upd', 'conversation.closed', 'updated_at', "upd.was <> 'closed' AND upd.status = 'closed'")})
     SELECT 1`,
    params,
  );
}
